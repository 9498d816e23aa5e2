"""botocore / boto3 integration: :mod:`imds` in place of botocore's instance-metadata provider.

    import boto3, imds.botocore

    session = boto3.Session()
    imds.botocore.install(session)          # replaces the 'iam-role' provider of the chain
    s3 = session.client("s3")

The providers before it in the chain (environment, shared files, SSO, ...) still come first; when
the chain reaches IMDS, :class:`ImdsCredentialProvider` answers with botocore
``RefreshableCredentials`` refreshed through one shared :class:`imds.Provider`.

In the chain it follows botocore's contract: ``load()`` returns ``None`` when IMDS cannot give
credentials (unreachable, disabled, no role attached, an error answer, bad data), so the chain
goes on to its next provider, and raises ``botocore.exceptions.InvalidConfigError`` (from the
:class:`imds.ImdsError`) for an invalid setting or config file, which stops the chain. When IMDS
answered with an error, the ``imds`` logger says so once per provider at WARNING.
"""

from __future__ import annotations

from typing import Any, Dict, Generic, List, Optional, TypeVar

from botocore.credentials import (  # type: ignore[import-untyped]
    CredentialProvider,
    RefreshableCredentials,
)
from botocore.exceptions import InvalidConfigError  # type: ignore[import-untyped]

from . import _imds, _log
from ._imds import Credentials
from .errors import ImdsError
from .provider import Provider

__all__ = ["ImdsCredentialProvider", "install"]

METHOD = "iam-role"
"""botocore's name for the instance-metadata provider (``resolver.get_provider("iam-role")``)."""

CANONICAL_NAME = "Ec2InstanceMetadata"
"""botocore's canonical name for it (``credential_source = Ec2InstanceMetadata``)."""


def _raise_or_log(error: ImdsError, warned: List[bool]) -> None:
    """What a botocore-style provider does with ``error`` instead of credentials, as the core's
    chain rule says (``imds_core::chain``; the same in every SDK integration):

    * an invalid setting or config file raises ``botocore.exceptions.InvalidConfigError`` (a
      ``BotoCoreError``, as botocore's own providers raise for a bad configuration, and what boto3
      code catches) from ``error``, so the chain stops and says what to fix instead of ending in
      "Unable to locate credentials";
    * otherwise it returns, and the caller returns ``None`` so that the chain goes on. When IMDS
      answered with an error, the first time for this provider (``warned[0]`` is False) it is
      logged at WARNING on the ``imds`` logger; otherwise at DEBUG.
    """
    outcome = _imds.chain_outcome(error.kind) if error.kind in _imds.ERROR_KINDS else "stop"
    if outcome == "stop":
        raise InvalidConfigError(error_msg=f"imds: {error}") from error
    if outcome == "next_provider_with_warning" and not warned[0]:
        warned[0] = True
        _log.logger.warning("no credentials from IMDS: %s", error)
    else:
        _log.logger.debug("no credentials from IMDS: %s", error)


def _metadata_for(credentials: Credentials) -> Dict[str, Any]:
    """The metadata botocore builds its ``RefreshableCredentials`` from."""
    metadata: Dict[str, Any] = {
        "access_key": credentials.access_key_id,
        "secret_key": credentials.secret_access_key,
        "token": credentials.session_token,
        "expiry_time": credentials.expiration_rfc3339,
    }
    if credentials.account_id is not None:
        metadata["account_id"] = credentials.account_id
    return metadata


def _refresh_windows(refresh_window_secs: int) -> Dict[str, int]:
    """botocore's refresh windows for the core's: botocore refreshes inside them, the core inside
    its own, so botocore's must not start earlier or a "refresh" would return the same
    credentials."""
    return {"advisory_timeout": refresh_window_secs, "mandatory_timeout": refresh_window_secs // 2}


def _install_in(session: Any, provider: CredentialProvider) -> None:
    """Puts ``provider`` in ``session``'s credential chain in place of the ``iam-role`` provider,
    or last when there is none. ``session``: a botocore or aiobotocore session, or a boto3 /
    aioboto3 one wrapping it."""
    botocore_session = getattr(session, "_session", session)
    resolver = botocore_session.get_component("credential_provider")
    methods = [p.METHOD for p in resolver.providers]
    if METHOD in methods:
        resolver.providers[methods.index(METHOD)] = provider
    else:
        resolver.providers.append(provider)


P = TypeVar("P")


class _LazyImdsProvider(CredentialProvider, Generic[P]):  # type: ignore[misc]
    """What the botocore and aiobotocore providers share: botocore's names for the
    instance-metadata provider, an imds provider made on first use, and the warned-once state."""

    METHOD = METHOD
    CANONICAL_NAME = CANONICAL_NAME

    def __init__(self, provider: Optional[P] = None, **explicit: Any) -> None:
        super().__init__()
        self._provider = provider
        self._explicit = explicit
        self._warned = [False]

    def _new_provider(self, **explicit: Any) -> P:
        raise NotImplementedError

    @property
    def provider(self) -> P:
        """The imds provider (created on first use, so installing costs nothing).

        Raises an :class:`imds.ImdsError` for invalid settings."""
        if self._provider is None:
            self._provider = self._new_provider(**self._explicit)
        return self._provider


class ImdsCredentialProvider(_LazyImdsProvider[Provider]):
    """A botocore credential provider backed by an :class:`imds.Provider`.

    It keeps botocore's names for the instance-metadata provider (``METHOD = "iam-role"``,
    ``CANONICAL_NAME = "Ec2InstanceMetadata"``), so ``credential_source = Ec2InstanceMetadata``
    and ``resolver.get_provider("iam-role")`` keep working.
    """

    def _new_provider(self, **explicit: Any) -> Provider:
        return Provider(**explicit)

    def _metadata(self) -> Dict[str, Any]:
        return _metadata_for(self.provider.credentials())

    def load(self) -> Optional[RefreshableCredentials]:
        """Credentials for botocore; None (next provider) when IMDS has none to give; raises
        ``InvalidConfigError`` for an invalid setting."""
        try:
            metadata = self._metadata()
        except ImdsError as error:
            _raise_or_log(error, self._warned)
            return None
        return RefreshableCredentials.create_from_metadata(
            metadata,
            refresh_using=self._metadata,
            method=self.METHOD,
            **_refresh_windows(self.provider.settings.refresh_window_secs),
        )


def install(session: Any, provider: Optional[Provider] = None, **explicit: Any) -> ImdsCredentialProvider:
    """Puts an :class:`ImdsCredentialProvider` in ``session``'s credential chain.

    ``session`` is a ``botocore.session.Session`` or a ``boto3.Session``. botocore's own
    instance-metadata provider (``iam-role``) is replaced in place; when the chain has none, the
    provider is appended. ``provider`` or ``explicit`` settings configure it. Call before the
    session first resolves credentials (before creating clients).
    """
    imds_provider = ImdsCredentialProvider(provider, **explicit)
    _install_in(session, imds_provider)
    return imds_provider
