"""IMDS credentials for Python, on the sans-IO Rust core ``imds-core``.

* :func:`fetch_credentials` / :func:`get`: one blocking request sequence over :mod:`socket`;
* :class:`Provider`: a long-lived, thread-safe provider that caches and refreshes;
* :mod:`imds.aio`: the same over asyncio streams;
* :mod:`imds.botocore`: puts a :class:`Provider` in a botocore/boto3 session's credential chain;
* :mod:`imds.aiobotocore`: puts an :class:`imds.aio.Provider` in an aiobotocore session's chain;
* :class:`Client`: the sans-IO state machine itself, for your own event loop;
* errors are :class:`ImdsError` subclasses (see :mod:`imds.errors`); diagnostics are logged on
  the ``imds`` logger.

Every request goes to the endpoint the settings resolve (``AWS_EC2_METADATA_SERVICE_ENDPOINT``,
the config file, or ``endpoint=`` in code).
"""

from __future__ import annotations

from ._imds import (
    Action,
    Client,
    Credentials,
    Diagnostic,
    IoError,
    Settings,
    __version__,
)
from ._sync import fetch_credentials, get, get_bytes
from .errors import (
    ClientUsageError,
    ConfigFileError,
    ConfigurationError,
    ConnectFailedError,
    ConnectionClosedError,
    CredentialsRejectedError,
    DisabledError,
    HttpStatusError,
    ImdsError,
    InvalidArgumentError,
    InvalidInstanceProfileError,
    InvalidRoleNameError,
    InvalidSettingError,
    InvalidStateError,
    InvalidTokenError,
    IoFailedError,
    MalformedCredentialsError,
    MalformedResponseError,
    NoRoleError,
    ProtocolError,
    RefusedError,
    ResponseTooLargeError,
    RoleUnstableError,
    TimedOutError,
    TransportError,
    UnsupportedError,
    V1FallbackBlockedError,
)

TYPE_CHECKING = False  # typing and threading are imported only when needed
if TYPE_CHECKING:
    from typing import Any, List, Mapping, Optional

    from .provider import Provider


def __getattr__(name: str) -> object:
    # `Provider` brings in threading: loaded on first use, so `python -m imds` stays light.
    if name == "Provider":
        from .provider import Provider

        return Provider
    raise AttributeError(f"module 'imds' has no attribute {name!r}")


def __dir__() -> List[str]:
    # The lazily loaded names too, so that dir(imds), help(imds) and completion list them.
    return sorted(set(globals()) | set(__all__))

__all__ = [
    "__version__",
    "Action",
    "Client",
    "Credentials",
    "Diagnostic",
    "IoError",
    "Settings",
    "Provider",
    "fetch_credentials",
    "get",
    "get_bytes",
    "load_settings",
    "ImdsError",
    "ConfigurationError",
    "ClientUsageError",
    "TransportError",
    "ProtocolError",
    "RefusedError",
    "DisabledError",
    "InvalidSettingError",
    "ConfigFileError",
    "InvalidStateError",
    "InvalidArgumentError",
    "UnsupportedError",
    "ConnectFailedError",
    "TimedOutError",
    "IoFailedError",
    "ConnectionClosedError",
    "MalformedResponseError",
    "ResponseTooLargeError",
    "HttpStatusError",
    "InvalidTokenError",
    "InvalidRoleNameError",
    "MalformedCredentialsError",
    "V1FallbackBlockedError",
    "NoRoleError",
    "RoleUnstableError",
    "InvalidInstanceProfileError",
    "CredentialsRejectedError",
]


def load_settings(env: Optional[Mapping[str, str]] = None, **explicit: Any) -> Settings:
    """Resolves settings: ``explicit`` keywords (source ``code``: ``endpoint``, ``timeout``,
    ``attempts``, ``v1_disabled``, ...) over the environment (the process's, or ``env``) over the
    active profile of the config file over defaults."""
    return Settings.load(explicit, env)
