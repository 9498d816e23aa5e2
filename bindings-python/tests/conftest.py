"""Fixtures: the loopback mock IMDS (`imds-mock` from the test kit) and a clean environment."""

from __future__ import annotations

import json
import logging
import os
import socket
import ssl
import struct
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

import pytest

REPO_ROOT = Path(os.environ.get("IMDS_REPO_ROOT", Path(__file__).resolve().parents[2]))
MOCK_BINARY = Path(os.environ.get("IMDS_MOCK", REPO_ROOT / "target" / "debug" / "imds-mock"))

# Credentials the tests serve, distinct from the mock's defaults so a match proves they travelled.
ACCESS_KEY_ID = "ASIAPYTHONTEST000001"
SECRET_ACCESS_KEY = "pythonSecret/TEST+Key0123456789abcdefghij"
SESSION_TOKEN = "pythonSessionToken/TEST+Token0123456789=="
EXPIRATION = "2030-01-01T00:00:00Z"
EXPIRATION_UNIX = 1893456000  # 2030-01-01T00:00:00Z
ROLE = "python-test-role"


def script(**overrides: Any) -> Dict[str, Any]:
    """A mock script serving the test credentials, with `overrides` on top."""
    base: Dict[str, Any] = {
        "role": ROLE,
        "credentials": {
            "AccessKeyId": ACCESS_KEY_ID,
            "SecretAccessKey": SECRET_ACCESS_KEY,
            "Token": SESSION_TOKEN,
            "Expiration": EXPIRATION,
        },
    }
    base.update(overrides)
    return base


class Mock:
    """One `imds-mock` process on loopback, with its request log."""

    def __init__(self, tmp: Path, spec: Optional[Dict[str, Any]], bind: str = "127.0.0.1") -> None:
        if not MOCK_BINARY.exists():
            raise RuntimeError(f"{MOCK_BINARY} is missing: cargo build -p imds-testkit --bin imds-mock")
        self.log_path = tmp / f"mock-{id(self)}.log"
        args = [str(MOCK_BINARY), "--bind", bind, "--log", str(self.log_path), "--until-stdin-closes"]
        if spec is not None:
            args += ["--script-json", json.dumps(spec)]
        self.process = subprocess.Popen(
            args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert self.process.stdout is not None
        first = self.process.stdout.readline().strip()
        if not first.startswith("listening "):
            self.close()
            raise RuntimeError(f"imds-mock did not start: {first!r}")
        self.port = int(first.rsplit(":", 1)[1])
        self.host = "[::1]" if bind == "::1" else "127.0.0.1"
        self.endpoint = f"http://{self.host}:{self.port}"

    def requests(self) -> List[Dict[str, Any]]:
        """Every request the mock answered so far, in order."""
        if not self.log_path.exists():
            return []
        return [json.loads(line) for line in self.log_path.read_text().splitlines() if line]

    def lines(self) -> List[str]:
        """`METHOD PATH` of every request so far."""
        return [f"{r['method']} {r['path']}" for r in self.requests()]

    def lines_by_connection(self) -> List[Tuple[int, str]]:
        """(connection number, `METHOD PATH`) of every request so far, connection by connection
        (numbered 1, 2, ... in the order the mock accepted them), each in the order it was sent.
        The log itself may interleave connections in either order: each has its own thread."""
        return sorted(
            ((int(r["connection"]), f"{r['method']} {r['path']}") for r in self.requests()),
            key=lambda request: request[0],
        )

    def close(self) -> None:
        if self.process.poll() is None:
            assert self.process.stdin is not None
            self.process.stdin.close()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()


@pytest.fixture
def start_mock(tmp_path: Path) -> Iterator[Callable[..., Mock]]:
    """Starts mocks: `start_mock(script(...))`; all are stopped after the test."""
    mocks: List[Mock] = []

    def start(spec: Optional[Dict[str, Any]] = None, bind: str = "127.0.0.1") -> Mock:
        mock = Mock(tmp_path, spec, bind)
        mocks.append(mock)
        return mock

    yield start
    for mock in mocks:
        mock.close()


@pytest.fixture
def mock(start_mock: Callable[..., Mock]) -> Mock:
    """A mock serving the test credentials."""
    return start_mock(script())


# An IMDS that accepts connections and reads requests but never answers (until the mock stops).
NEVER_ANSWERS = script(responses=[{"delay_ms": 3_600_000, "times": 0}])

# Every request one credentials fetch makes to an IMDS that never answers, at the default settings
# (1 s timeout): the token request times out, so the fetch falls back to IMDSv1 on a new
# connection, where the role-list request times out too and the fetch fails.
ONE_FETCH_THAT_TIMES_OUT = [
    (1, "PUT /latest/api/token"),
    (2, "GET /latest/meta-data/iam/security-credentials/"),
]

# An IMDS whose credentials answer comes late (within the default 1 s timeout), so that callers
# arrive while the exchange is in flight.
SLOW_CREDENTIALS = script(
    responses=[{"path": f"/latest/meta-data/iam/security-credentials/{ROLE}", "delay_ms": 300}]
)

# Every request of one full exchange on one connection.
ONE_EXCHANGE = [
    (1, "PUT /latest/api/token"),
    (1, "GET /latest/meta-data/iam/security-credentials/"),
    (1, f"GET /latest/meta-data/iam/security-credentials/{ROLE}"),
]


def access_key_ids(outcomes: List[Any]) -> List[Any]:
    """The access key id of each outcome that is credentials; any other outcome as it is."""
    return [getattr(outcome, "access_key_id", outcome) for outcome in outcomes]


def assert_one_failure_for_all(outcomes: List[Any], count: int) -> None:
    """`count` callers of a provider whose one fetch timed out all got its failure, each as an
    exception object of its own (one object raised in many threads or tasks would have its
    traceback rewritten under them)."""
    assert len(outcomes) == count
    assert all(type(outcome).__name__ == "TimedOutError" for outcome in outcomes), outcomes
    assert len({str(outcome) for outcome in outcomes}) == 1, "the same failure for every caller"
    assert all(outcome.kind == "timeout" for outcome in outcomes)
    assert len({id(outcome) for outcome in outcomes}) == count, "each caller raises its own copy"


AWS_PREFIXES = ("AWS_",)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No AWS variable of the machine reaches a test; HOME is an empty temporary folder."""
    for name in list(os.environ):
        if name.startswith(AWS_PREFIXES) or name.lower().endswith("_proxy"):
            monkeypatch.delenv(name)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    return home


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RawServer:
    """A loopback TCP server that answers every request with fixed bytes (for malformed HTTP), or
    with a TCP reset when `answer` is None."""

    def __init__(self, answer: Optional[bytes]) -> None:
        self.answer = answer
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = int(self.sock.getsockname()[1])
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                try:
                    conn.recv(65536)
                    if self.answer is None:  # close with RST instead of FIN
                        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    else:
                        conn.sendall(self.answer)
                except OSError:
                    pass

    def close(self) -> None:
        try:
            self.sock.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
        except OSError:
            pass
        self.sock.close()
        self.thread.join(timeout=10)


@pytest.fixture
def raw_server() -> Iterator[Callable[[Optional[bytes]], RawServer]]:
    servers: List[RawServer] = []

    def start(answer: Optional[bytes]) -> RawServer:
        server = RawServer(answer)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


# `match` needs Python 3.10; the package itself supports 3.9.
collect_ignore = ["test_client_match.py"] if __import__("sys").version_info < (3, 10) else []


class DroppingProxy:
    """A loopback TCP proxy to `upstream_port` that can drop every open connection at once,
    as a server does with idle keep-alive connections."""

    def __init__(self, upstream_port: int, tls: Optional["ssl.SSLContext"] = None) -> None:
        self.upstream_port = upstream_port
        self.tls = tls
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(8)
        self.endpoint = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.sockets: List[socket.socket] = []
        self.threads: List[threading.Thread] = []
        self.lock = threading.Lock()
        self.accepted = 0
        self._spawn(self._accept)

    def _spawn(self, target: Callable[..., None], *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        self.threads.append(thread)
        thread.start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self.tls is not None:
                try:
                    client = self.tls.wrap_socket(client, server_side=True)
                except OSError:  # the client refused our certificate
                    client.close()
                    continue
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
            with self.lock:
                self.accepted += 1
                self.sockets += [client, upstream]
            self._spawn(self._pump, client, upstream)
            self._spawn(self._pump, upstream, client)

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                sink.sendall(data)
        except OSError:
            pass
        try:
            sink.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def drop_all(self) -> None:
        """Closes every proxied connection (both sides)."""
        with self.lock:
            sockets, self.sockets = self.sockets, []
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()

    def close(self) -> None:
        try:
            self.listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.listener.close()
        self.drop_all()
        for thread in self.threads:
            thread.join(timeout=10)


@pytest.fixture
def dropping_proxy() -> Iterator[Callable[..., DroppingProxy]]:
    """Starts proxies: `dropping_proxy(port)`, or `dropping_proxy(port, tls=server_context)`."""
    proxies: List[DroppingProxy] = []

    def start(upstream_port: int, tls: Optional["ssl.SSLContext"] = None) -> DroppingProxy:
        proxy = DroppingProxy(upstream_port, tls)
        proxies.append(proxy)
        return proxy

    yield start
    for proxy in proxies:
        proxy.close()


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    """A moto server on 127.0.0.1 in its own process (one per test module: it takes a second to
    start)."""
    process = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("moto_server.py"))],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdin is not None and process.stdout is not None
    port = int(process.stdout.readline())
    yield f"http://127.0.0.1:{port}"
    process.stdin.close()
    process.wait(timeout=30)
    process.stdout.close()


@pytest.fixture
def no_other_credentials(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing but IMDS can give credentials: no variables, empty config and credentials files."""
    for name in ("config", "credentials"):
        (tmp_path / f"empty-{name}").write_text("")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "empty-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "empty-credentials"))


# The botocore and aiobotocore chain tests: the next link after imds is botocore's (aiobotocore's)
# environment provider, reading this mapping.
NEXT_ACCESS_KEY = "AKIANEXTPROVIDER0001"
NEXT_ENVIRONMENT = {"AWS_ACCESS_KEY_ID": NEXT_ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": "next-provider-secret"}

# When IMDS cannot give credentials, name: (environment, mock script or None for no IMDS at all,
# whether IMDS answered with an error, which is logged once at WARNING).
FALL_THROUGH: Dict[str, Any] = {
    "IMDS down (connection refused)": ({}, None, False),
    "IMDS disabled": ({"AWS_EC2_METADATA_DISABLED": "true"}, script(), False),
    "no role attached": ({}, script(role=None), False),
    "IMDS refuses the credentials": (
        {},
        script(credentials={"Code": "AssumeRoleUnauthorizedAccess", "Message": "not authorized"}),
        True,
    ),
    "IMDS answers 500 to every attempt": (
        {"AWS_METADATA_SERVICE_NUM_ATTEMPTS": "2"},
        script(responses=[{"path": f"/latest/meta-data/iam/security-credentials/{ROLE}", "status": 500, "times": 0}]),
        True,
    ),
}

# Invalid settings botocore itself does not read: each must stop the chain.
INVALID_SETTINGS = [("AWS_EC2_METADATA_DISABLED", "yes"), ("AWS_EC2_INSTANCE_PROFILE_NAME", "not a role")]


def set_up_fall_through(case: str, start_mock: Callable[..., Mock], monkeypatch: pytest.MonkeyPatch) -> bool:
    """Points the environment at the IMDS of a FALL_THROUGH case; returns whether it warns."""
    environment, spec, warns = FALL_THROUGH[case]
    endpoint = start_mock(spec).endpoint if spec is not None else f"http://127.0.0.1:{closed_port()}"
    monkeypatch.setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", endpoint)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    return bool(warns)


def assert_failures_logged(caplog: pytest.LogCaptureFixture, tries: int, warns: bool) -> None:
    """The `imds` logger said `tries` times that IMDS gave no credentials: once at WARNING when
    IMDS answered with an error (`warns`), never when it is absent; every other time at DEBUG."""
    levels = [
        record.levelno
        for record in caplog.records
        if record.name == "imds" and record.getMessage().startswith("no credentials from IMDS: ")
    ]
    assert len(levels) == tries
    assert levels.count(logging.WARNING) == (1 if warns else 0), levels
    assert levels.count(logging.DEBUG) == tries - levels.count(logging.WARNING), levels


def assert_configuration_error(error: BaseException, name: str, value: str, mock: Mock) -> None:
    """`error` is the configuration error for `name`=`value` (env), raised before any request."""
    assert type(error).__name__ == "InvalidConfigError", repr(error)
    assert str(error).startswith(f"imds: invalid {name} (env): `{value}`")
    assert type(error.__cause__).__name__ == "InvalidSettingError", repr(error.__cause__)
    assert mock.requests() == [], "no request was made"


def serve_access_key(
    key: Dict[str, str], start_mock: Callable[..., Mock], monkeypatch: pytest.MonkeyPatch
) -> Mock:
    """Starts a mock serving `key` (an IAM `AccessKey`, as moto made it) as the role's
    credentials, and points the environment at it."""
    mock = start_mock(
        script(
            credentials={
                "AccessKeyId": key["AccessKeyId"],
                "SecretAccessKey": key["SecretAccessKey"],
                "Token": "e2e-session-token",
                "Expiration": "2030-01-01T00:00:00Z",
            }
        )
    )
    monkeypatch.setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", mock.endpoint)
    return mock
