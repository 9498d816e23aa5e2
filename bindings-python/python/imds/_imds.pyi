"""Native part of the ``imds`` package: the sans-IO IMDS client of ``imds-core``."""

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Final, Optional, Union, final

from typing_extensions import TypeAlias, disjoint_base

__all__ = [
    "__version__",
    "Action",
    "Client",
    "CommandLineError",
    "CoreError",
    "Credentials",
    "Diagnostic",
    "ERROR_KINDS",
    "EXIT_DISABLED",
    "EXIT_FETCH_FAILED",
    "EXIT_SUCCESS",
    "EXIT_USAGE",
    "Invocation",
    "IoError",
    "Settings",
    "USAGE",
    "chain_outcome",
    "exit_code",
    "help_text",
    "parse_args",
    "version_line",
]

__version__: Final[str]
USAGE: Final[str]
EXIT_SUCCESS: Final[int]
EXIT_FETCH_FAILED: Final[int]
EXIT_USAGE: Final[int]
EXIT_DISABLED: Final[int]
ERROR_KINDS: Final[list[str]]
"""Every error kind of the core (``ImdsError.kind`` values), in number order."""

_SettingValue: TypeAlias = Union[str, bool, int, float, None]

@final
class Settings:
    """Resolved IMDS settings, each value with the source it came from."""

    @staticmethod
    def load(
        explicit: Optional[Mapping[str, _SettingValue]] = None,
        env: Optional[Mapping[str, str]] = None,
    ) -> Settings:
        """Resolves ``explicit`` values (source ``code``) over the environment (the process's when
        ``env`` is None) over the config file's active profile over defaults."""
    @property
    def disabled(self) -> bool: ...
    @property
    def v1_disabled(self) -> bool: ...
    @property
    def endpoint(self) -> str: ...
    @property
    def endpoint_mode(self) -> str: ...
    @property
    def timeout_ms(self) -> int: ...
    @property
    def attempts(self) -> int: ...
    @property
    def instance_profile_name(self) -> Optional[str]: ...
    @property
    def token_ttl_secs(self) -> int: ...
    @property
    def credentials_api(self) -> str: ...
    @property
    def refresh_window_secs(self) -> int: ...
    @property
    def sources(self) -> dict[str, str]:
        """Every setting's source (``default``, ``profile``, ``env`` or ``code``) by code name."""
    def source(self, name: str) -> str:
        """Where the value of setting ``name`` came from."""
    def report(self) -> str:
        """The report ``imds settings`` prints."""

@final
class Credentials:
    """Temporary AWS credentials; ``repr`` never shows the secrets."""

    @property
    def access_key_id(self) -> str: ...
    @property
    def secret_access_key(self) -> str: ...
    @property
    def session_token(self) -> str: ...
    @property
    def expiration(self) -> datetime:
        """Timezone-aware UTC."""
    @property
    def expiration_timestamp(self) -> int: ...
    @property
    def expiration_rfc3339(self) -> str: ...
    @property
    def account_id(self) -> Optional[str]: ...
    def to_process_json(self) -> str:
        """The ``credential_process`` JSON (one line, no newline)."""

@final
class Diagnostic:
    """One thing that happened during an operation; never contains a secret."""

    @property
    def level(self) -> str:
        """``trace``, ``info`` or ``warning``."""
    @property
    def message(self) -> str: ...
    def line(self) -> str:
        """The ``--trace`` line of the ``imds`` command."""

@final
class CoreError:
    """The core's error behind an ``imds.ImdsError`` (its ``_core`` attribute)."""

    @property
    def kind(self) -> str: ...
    @property
    def number(self) -> int: ...
    @property
    def message(self) -> str: ...
    @property
    def status(self) -> Optional[int]: ...
    @property
    def exit_code(self) -> int: ...
    def line(self) -> str: ...

@final
class IoError:
    """An I/O failure as the host classifies it. ConnectionRefused and ConnectionReset are
    retried within the attempts; ConnectFailed (unreachable) and Other are final unless the number
    of attempts was set."""

    ConnectionRefused: Final[IoError]
    ConnectFailed: Final[IoError]
    ConnectionReset: Final[IoError]
    Other: Final[IoError]
    def __int__(self) -> int: ...

@disjoint_base
class Action:
    """What the host must do next; match on the variant classes."""

    @final
    class Connect(Action):
        __match_args__ = ("host", "port", "tls", "deadline")
        def __new__(cls, host: str, port: int, tls: bool, deadline: int) -> Action.Connect: ...
        @property
        def host(self) -> str: ...
        @property
        def port(self) -> int: ...
        @property
        def tls(self) -> bool: ...
        @property
        def deadline(self) -> int: ...

    @final
    class Send(Action):
        __match_args__ = ("data", "deadline")
        def __new__(cls, data: bytes, deadline: int) -> Action.Send: ...
        @property
        def data(self) -> bytes: ...
        @property
        def deadline(self) -> int: ...

    @final
    class Receive(Action):
        __match_args__ = ("deadline",)
        def __new__(cls, deadline: int) -> Action.Receive: ...
        @property
        def deadline(self) -> int: ...

    @final
    class Close(Action):
        __match_args__ = ()
        def __new__(cls) -> Action.Close: ...

    @final
    class Wait(Action):
        __match_args__ = ("until",)
        def __new__(cls, until: int) -> Action.Wait: ...
        @property
        def until(self) -> int: ...

    @final
    class Done(Action):
        __match_args__ = ()
        def __new__(cls) -> Action.Done: ...

@final
class Client:
    """The sans-IO IMDS client. ``now`` and deadlines are monotonic milliseconds.

    One caller at a time (a concurrent call raises ``RuntimeError``); :class:`imds.Provider`
    serialises its callers with a lock."""

    def __new__(cls, settings: Optional[Settings] = None, seed: Optional[int] = None) -> Client: ...
    @property
    def settings(self) -> Settings: ...
    def set_binding(self, name: str) -> None:
        """Names the program in ``User-Agent`` (a new client says ``python``)."""
    def start_credentials(self, now: int, wall: int) -> None: ...
    def start_get(self, now: int, path: str) -> None: ...
    def poll(self, now: int) -> Action: ...
    def handle_connected(self, now: int) -> None: ...
    def handle_connected_reused(self, now: int) -> None:
        """A kept connection from a pool was handed over instead of connecting."""
    def handle_data(self, now: int, data: bytes) -> None:
        """Bytes arrived (while a Send is pending: found before the request was written)."""
    def handle_eof(self, now: int) -> None:
        """The peer closed (while a Send is pending: found closed before the request was written)."""
    def handle_io_error(self, now: int, error: IoError) -> None: ...
    def handle_timeout(self, now: int) -> None: ...
    def handle_closed(self) -> None:
        """The connection is gone while the client was not using it: the next request connects anew."""
    def credentials(self) -> Optional[Credentials]: ...
    def body(self) -> Optional[bytes]: ...
    def poll_diagnostic(self) -> Optional[Diagnostic]: ...
    def drain_diagnostics(self) -> list[Diagnostic]: ...
    def reset(self) -> None:
        """Forgets everything learned from IMDS and abandons the running operation."""
    def cancel(self) -> None: ...

class CommandLineError(ValueError):
    """The command line does not follow the usage; ``str(error)`` is the whole stderr line."""

@final
class Invocation:
    """A parsed command line."""

    @property
    def command(self) -> str:
        """``credentials``, ``settings``, ``get``, ``help`` or ``version``."""
    @property
    def path(self) -> Optional[str]: ...
    @property
    def trace(self) -> bool: ...

def parse_args(args: Sequence[str]) -> Invocation:
    """Parses the arguments after the program name."""

def exit_code(kind: str) -> int:
    """The exit status of the ``imds`` command for an error of ``kind``."""

def help_text() -> str:
    """The ``--help`` text of the ``imds`` command."""

def version_line() -> str:
    """The ``--version`` line of the ``imds`` command (``imds <version>\\n``)."""

def chain_outcome(kind: str) -> str:
    """How an SDK credential chain treats an error of ``kind``: ``next_provider``,
    ``next_provider_with_warning`` or ``stop``."""
