"""botocore / boto3 integration: :mod:`imds` in place of botocore's instance-metadata provider.

    import boto3, imds.botocore

    session = boto3.Session()
    imds.botocore.install(session)          # replaces the 'iam-role' provider of the chain
    s3 = session.client("s3")

The providers before it in the chain (environment, shared files, SSO, ...) still come first; when
the chain reaches IMDS, :class:`ImdsCredentialProvider` answers with botocore
``RefreshableCredentials`` refreshed through one shared :class:`imds.Provider`.
"""

from __future__ import annotations

from typing import Any, Dict, Optional

from botocore.credentials import (  # type: ignore[import-untyped]
    CredentialProvider,
    RefreshableCredentials,
)

from . import _log
from .errors import ImdsError
from .provider import Provider

__all__ = ["ImdsCredentialProvider", "install"]


class ImdsCredentialProvider(CredentialProvider):  # type: ignore[misc]
    """A botocore credential provider backed by an :class:`imds.Provider`.

    It keeps botocore's names for the instance-metadata provider (``METHOD = "iam-role"``,
    ``CANONICAL_NAME = "Ec2InstanceMetadata"``), so ``credential_source = Ec2InstanceMetadata``
    and ``resolver.get_provider("iam-role")`` keep working.
    """

    METHOD = "iam-role"
    CANONICAL_NAME = "Ec2InstanceMetadata"

    def __init__(self, provider: Optional[Provider] = None, **explicit: Any) -> None:
        super().__init__()
        self._provider = provider
        self._explicit = explicit

    @property
    def provider(self) -> Provider:
        """The :class:`imds.Provider` (created on first use, so installing costs nothing)."""
        if self._provider is None:
            self._provider = Provider(**self._explicit)
        return self._provider

    def _metadata(self) -> Dict[str, Any]:
        credentials = self.provider.credentials()
        metadata: Dict[str, Any] = {
            "access_key": credentials.access_key_id,
            "secret_key": credentials.secret_access_key,
            "token": credentials.session_token,
            "expiry_time": credentials.expiration_rfc3339,
        }
        if credentials.account_id is not None:
            metadata["account_id"] = credentials.account_id
        return metadata

    def load(self) -> Optional[RefreshableCredentials]:
        """Credentials for botocore, or None (next provider) when IMDS has none to give."""
        try:
            metadata = self._metadata()
        except ImdsError as error:
            _log.logger.debug("no credentials from IMDS: %s", error)
            return None
        # botocore refreshes inside these windows; the core refreshes inside its own window, so
        # botocore's must not start earlier or a "refresh" would return the same credentials.
        window = self.provider.settings.refresh_window_secs
        return RefreshableCredentials.create_from_metadata(
            metadata,
            refresh_using=self._metadata,
            method=self.METHOD,
            advisory_timeout=window,
            mandatory_timeout=window // 2,
        )


def install(session: Any, provider: Optional[Provider] = None, **explicit: Any) -> ImdsCredentialProvider:
    """Puts an :class:`ImdsCredentialProvider` in ``session``'s credential chain.

    ``session`` is a ``botocore.session.Session`` or a ``boto3.Session``. botocore's own
    instance-metadata provider (``iam-role``) is replaced in place; when the chain has none, the
    provider is appended. ``provider`` or ``explicit`` settings configure it. Call before the
    session first resolves credentials (before creating clients).
    """
    botocore_session = getattr(session, "_session", session)
    resolver = botocore_session.get_component("credential_provider")
    imds_provider = ImdsCredentialProvider(provider, **explicit)
    methods = [p.METHOD for p in resolver.providers]
    if ImdsCredentialProvider.METHOD in methods:
        resolver.providers[methods.index(ImdsCredentialProvider.METHOD)] = imds_provider
    else:
        resolver.providers.append(imds_provider)
    return imds_provider
