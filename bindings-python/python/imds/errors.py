"""Exceptions raised by :mod:`imds`.

Every failure of the core reaches Python as an instance of one class per error kind, all
deriving from :class:`ImdsError`, grouped in families you can catch at once:

=========================  ==============================================================
family                     kinds (``ImdsError.kind``) and their classes
=========================  ==============================================================
:class:`ConfigurationError`  ``disabled`` :class:`DisabledError`,
                           ``invalid_setting`` :class:`InvalidSettingError` (a ``ValueError``),
                           ``config_file`` :class:`ConfigFileError`
:class:`ClientUsageError`  ``invalid_state`` :class:`InvalidStateError`,
                           ``invalid_argument`` :class:`InvalidArgumentError` (a ``ValueError``),
                           ``unsupported`` :class:`UnsupportedError`
:class:`TransportError`    ``connect_failed`` :class:`ConnectFailedError` (a ``ConnectionError``),
                           ``timeout`` :class:`TimedOutError` (a ``TimeoutError``),
                           ``io`` :class:`IoFailedError`,
                           ``connection_closed`` :class:`ConnectionClosedError`
:class:`ProtocolError`     ``malformed_response`` :class:`MalformedResponseError`,
                           ``response_too_large`` :class:`ResponseTooLargeError`,
                           ``http_status`` :class:`HttpStatusError`,
                           ``invalid_token`` :class:`InvalidTokenError`,
                           ``invalid_role_name`` :class:`InvalidRoleNameError`,
                           ``malformed_credentials`` :class:`MalformedCredentialsError`
:class:`RefusedError`      ``v1_fallback_blocked`` :class:`V1FallbackBlockedError`,
                           ``no_role`` :class:`NoRoleError`,
                           ``role_unstable`` :class:`RoleUnstableError`,
                           ``invalid_instance_profile`` :class:`InvalidInstanceProfileError`,
                           ``credentials_rejected`` :class:`CredentialsRejectedError`
=========================  ==============================================================

The message (``str(error)``) is the core's: it says what is wrong and what to do, and never
contains a secret.
"""

from __future__ import annotations

import builtins
TYPE_CHECKING = False  # typing is not imported at run time: it costs more than the rest
if TYPE_CHECKING:
    from typing import Dict, Optional, Type

    from ._imds import CoreError

__all__ = [
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
    "BY_KIND",
]


class ImdsError(Exception):
    """Base class of every error :mod:`imds` raises about IMDS.

    ``kind`` is the core's stable error kind (``"timeout"``, ``"no_role"``, ...); ``status`` the
    HTTP status the error is about, when there was one.
    """

    kind: str = ""
    status: Optional[int] = None
    _core: Optional[CoreError] = None

    def __init__(self, message: str, *, kind: Optional[str] = None) -> None:
        super().__init__(message)
        if kind is not None:
            self.kind = kind

    @property
    def exit_code(self) -> int:
        """The exit status of the ``imds`` command for this error."""
        if self._core is not None:
            return self._core.exit_code
        from ._imds import exit_code

        return exit_code(self.kind)

    def line(self) -> str:
        """The stderr line of the ``imds`` command for this error (``imds: ...\\n``)."""
        if self._core is not None:
            return self._core.line()
        return f"imds: {self}\n"


class ConfigurationError(ImdsError):
    """IMDS is disabled or the settings are invalid: nothing was requested."""


class ClientUsageError(ImdsError):
    """The API was used in a way the core refuses (out of order, bad argument, unsupported)."""


class TransportError(ImdsError):
    """The connection to IMDS failed: refused, timed out, reset or cut short."""


class ProtocolError(ImdsError):
    """IMDS answered something the core does not accept."""


class RefusedError(ImdsError):
    """IMDS answered, but gave no credentials (no role, rejected, IMDSv1 blocked, ...)."""


class DisabledError(ConfigurationError):
    """IMDS is disabled (``AWS_EC2_METADATA_DISABLED``)."""

    kind = "disabled"


class InvalidSettingError(ConfigurationError, ValueError):
    """A setting has a value that is not accepted; the message names it and its source."""

    kind = "invalid_setting"


class ConfigFileError(ConfigurationError):
    """The shared config file is malformed."""

    kind = "config_file"


class InvalidStateError(ClientUsageError):
    """The client was called out of order."""

    kind = "invalid_state"


class InvalidArgumentError(ClientUsageError, ValueError):
    """An argument is not acceptable (e.g. a metadata path with spaces)."""

    kind = "invalid_argument"


class UnsupportedError(ClientUsageError):
    """The driver cannot do what the settings need."""

    kind = "unsupported"


class ConnectFailedError(TransportError, builtins.ConnectionError):
    """The TCP connection could not be made (refused, unreachable, connect timeout); the message
    names the endpoint."""

    kind = "connect_failed"


class TimedOutError(TransportError, builtins.TimeoutError):
    """A request was not sent and answered in full within ``timeout`` (silence and a slow
    trickle alike)."""

    kind = "timeout"


class IoFailedError(TransportError):
    """Another I/O error reported by the driver."""

    kind = "io"


class ConnectionClosedError(TransportError):
    """IMDS closed or reset the connection before a whole response arrived."""

    kind = "connection_closed"


class MalformedResponseError(ProtocolError):
    """The response is not valid HTTP/1.1 or not what IMDS sends."""

    kind = "malformed_response"


class ResponseTooLargeError(ProtocolError):
    """The response is larger than the core's fixed receive buffer."""

    kind = "response_too_large"


class HttpStatusError(ProtocolError):
    """IMDS answered with an HTTP status that ends the operation (see ``status``)."""

    kind = "http_status"


class InvalidTokenError(ProtocolError):
    """The IMDSv2 token is empty, too long or not header-safe."""

    kind = "invalid_token"


class InvalidRoleNameError(ProtocolError):
    """The role name IMDS returned (or that was configured) is not a valid IAM name."""

    kind = "invalid_role_name"


class MalformedCredentialsError(ProtocolError):
    """The credentials document is not the JSON IMDS sends, or lacks a required field."""

    kind = "malformed_credentials"


class V1FallbackBlockedError(RefusedError):
    """An IMDSv1 fallback was needed but ``ec2_metadata_v1_disabled`` blocks it."""

    kind = "v1_fallback_blocked"


class NoRoleError(RefusedError):
    """No IAM role is attached to the instance."""

    kind = "no_role"


class RoleUnstableError(RefusedError):
    """The role kept changing between discovery and fetch."""

    kind = "role_unstable"


class InvalidInstanceProfileError(RefusedError):
    """The configured instance profile name does not exist on this instance."""

    kind = "invalid_instance_profile"


class CredentialsRejectedError(RefusedError):
    """IMDS returned a credentials document whose ``Code`` is not ``Success``."""

    kind = "credentials_rejected"


BY_KIND: Dict[str, Type[ImdsError]] = {
    cls.kind: cls
    for cls in (
        DisabledError,
        InvalidSettingError,
        ConfigFileError,
        InvalidStateError,
        InvalidArgumentError,
        UnsupportedError,
        ConnectFailedError,
        TimedOutError,
        IoFailedError,
        ConnectionClosedError,
        MalformedResponseError,
        ResponseTooLargeError,
        HttpStatusError,
        InvalidTokenError,
        InvalidRoleNameError,
        MalformedCredentialsError,
        V1FallbackBlockedError,
        NoRoleError,
        RoleUnstableError,
        InvalidInstanceProfileError,
        CredentialsRejectedError,
    )
}
"""The exception class for each error kind."""


def _from_core(core: CoreError) -> ImdsError:
    """The exception for a core error (called by the native module)."""
    cls = BY_KIND.get(core.kind, ImdsError)
    error = cls(core.message, kind=core.kind)
    error._core = core
    error.status = core.status
    return error
