"""aiobotocore integration (and so aioboto3, s3fs, ...): :mod:`imds.aio` in place of aiobotocore's
instance-metadata provider.

    from aiobotocore.session import get_session
    import imds.aiobotocore

    session = get_session()
    imds.aiobotocore.install(session)       # replaces the 'iam-role' provider of the chain
    async with session.create_client("s3") as s3:
        ...

The providers before it in the chain still come first; when the chain reaches IMDS,
:class:`ImdsCredentialProvider` answers with aiobotocore ``AioRefreshableCredentials`` refreshed
through one shared :class:`imds.aio.Provider`, on the running asyncio event loop (the event loop
is never blocked). It follows the same rule as :mod:`imds.botocore`: ``load()`` returns ``None``
when IMDS cannot give credentials, so the chain goes on, and raises
``botocore.exceptions.InvalidConfigError`` for an invalid setting or config file; an error answer
from IMDS is logged once per provider at WARNING on the ``imds`` logger.
"""

from __future__ import annotations

from typing import Any, Dict, Optional

from aiobotocore.credentials import AioRefreshableCredentials

from .aio import Provider
from .botocore import _install_in, _LazyImdsProvider, _metadata_for, _raise_or_log, _refresh_windows
from .errors import ImdsError

__all__ = ["ImdsCredentialProvider", "install"]


class ImdsCredentialProvider(_LazyImdsProvider[Provider]):
    """An aiobotocore credential provider backed by an :class:`imds.aio.Provider`.

    It keeps botocore's names for the instance-metadata provider (``METHOD = "iam-role"``,
    ``CANONICAL_NAME = "Ec2InstanceMetadata"``).
    """

    def _new_provider(self, **explicit: Any) -> Provider:
        return Provider(**explicit)

    async def _metadata(self) -> Dict[str, Any]:
        return _metadata_for(await self.provider.credentials())

    async def load(self) -> Optional[AioRefreshableCredentials]:
        """Credentials for aiobotocore; None (next provider) when IMDS has none to give; raises
        ``InvalidConfigError`` for an invalid setting."""
        try:
            metadata = await self._metadata()
        except ImdsError as error:
            _raise_or_log(error, self._warned)
            return None
        credentials: AioRefreshableCredentials = AioRefreshableCredentials.create_from_metadata(
            metadata,
            refresh_using=self._metadata,
            method=self.METHOD,
            **_refresh_windows(self.provider.settings.refresh_window_secs),
        )
        return credentials


def install(session: Any, provider: Optional[Provider] = None, **explicit: Any) -> ImdsCredentialProvider:
    """Puts an :class:`ImdsCredentialProvider` in ``session``'s credential chain.

    ``session`` is an ``aiobotocore.session.AioSession`` (or an ``aioboto3.Session``, which wraps
    one). aiobotocore's own instance-metadata provider (``iam-role``) is replaced in place; when
    the chain has none, the provider is appended. ``provider`` (an :class:`imds.aio.Provider`) or
    ``explicit`` settings configure it. Call before the session first resolves credentials.
    """
    imds_provider = ImdsCredentialProvider(provider, **explicit)
    _install_in(session, imds_provider)
    return imds_provider
