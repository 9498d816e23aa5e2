"""The mirrored sans-IO types: actions, I/O errors, diagnostics, reprs that hide secrets."""

from __future__ import annotations

import pytest

import imds
from imds import _imds
from conftest import Mock


def test_actions_are_variant_classes() -> None:
    connect = imds.Action.Connect("127.0.0.1", 80, False, 1000)
    assert isinstance(connect, imds.Action)
    assert (connect.host, connect.port, connect.tls, connect.deadline) == ("127.0.0.1", 80, False, 1000)
    assert imds.Action.Connect.__match_args__ == ("host", "port", "tls", "deadline")
    assert imds.Action.Receive(5).deadline == 5
    assert imds.Action.Wait(9).until == 9
    assert isinstance(imds.Action.Done(), imds.Action)
    assert repr(imds.Action.Close()) == "Action.Close()"


def test_send_repr_hides_the_bytes(mock: Mock) -> None:
    client = imds.Client(imds.load_settings(endpoint=mock.endpoint))
    client.start_credentials(0, 0)
    connect = client.poll(0)
    assert isinstance(connect, imds.Action.Connect)
    assert connect.port == mock.port
    client.handle_connected(0)
    send = client.poll(0)
    assert isinstance(send, imds.Action.Send)
    assert send.data.startswith(b"PUT /latest/api/token HTTP/1.1\r\n")
    assert repr(send) == f"Action.Send(data=<{len(send.data)} bytes>, deadline={send.deadline})"
    assert send.deadline == 1000, "the default 1 s timeout"
    client.cancel()


def test_io_error_values() -> None:
    names = ["ConnectionRefused", "ConnectFailed", "ConnectionReset", "Other"]
    assert [repr(getattr(imds.IoError, name)) for name in names] == [f"IoError.{n}" for n in names]
    assert imds.IoError.Other == imds.IoError.Other
    assert imds.IoError.Other != imds.IoError.ConnectFailed


def test_connection_refused_is_retried_then_connect_failed_naming_the_endpoint() -> None:
    client = imds.Client(imds.load_settings(endpoint="http://127.0.0.1:9", attempts=2))
    client.start_credentials(0, 0)
    assert isinstance(client.poll(0), imds.Action.Connect)
    client.handle_io_error(1, imds.IoError.ConnectionRefused)
    wait = client.poll(1)
    assert isinstance(wait, imds.Action.Wait)
    assert isinstance(client.poll(wait.until), imds.Action.Connect)
    try:
        client.handle_io_error(wait.until, imds.IoError.ConnectionRefused)
        client.poll(wait.until)
    except imds.ConnectFailedError as error:
        assert error.kind == "connect_failed"
        assert str(error).startswith("could not connect to IMDS at http://127.0.0.1:9 (connection refused); ")
    else:
        raise AssertionError("expected ConnectFailedError")


def test_an_unreachable_network_is_final() -> None:
    client = imds.Client(imds.load_settings(endpoint="http://127.0.0.1:9"))
    client.start_credentials(0, 0)
    assert isinstance(client.poll(0), imds.Action.Connect)
    with pytest.raises(imds.ConnectFailedError, match=r"\(unreachable\)"):
        client.handle_io_error(1, imds.IoError.ConnectFailed)
        client.poll(1)


def test_module_constants() -> None:
    assert _imds.__version__ == imds.__version__
    assert (_imds.EXIT_SUCCESS, _imds.EXIT_FETCH_FAILED, _imds.EXIT_USAGE, _imds.EXIT_DISABLED) == (0, 1, 2, 3)
    assert _imds.USAGE.startswith("usage: imds ")
    assert _imds.exit_code("disabled") == 3
    assert _imds.exit_code("invalid_setting") == 2
    assert _imds.exit_code("timeout") == 1


def test_parse_args() -> None:
    invocation = _imds.parse_args(["--trace", "get", "placement/region"])
    assert (invocation.command, invocation.path, invocation.trace) == ("get", "placement/region", True)
    assert _imds.parse_args([]).command == "credentials"
    try:
        _imds.parse_args(["get"])
    except _imds.CommandLineError as error:
        assert str(error).startswith("imds: ") and str(error).endswith("\n")
    else:
        raise AssertionError("expected CommandLineError")


def test_user_agent_names_python_or_what_set_binding_says(mock: Mock) -> None:
    imds.fetch_credentials(endpoint=mock.endpoint)
    agents = {r["user_agent"] for r in mock.requests()}
    assert agents == {f"imds/{imds.__version__} (python)"}
    client = imds.Client(imds.load_settings(endpoint=mock.endpoint))
    client.set_binding("my-agent/1.2")
    client.start_credentials(0, 0)
    assert isinstance(client.poll(0), imds.Action.Connect)
    client.handle_connected(0)
    send = client.poll(0)
    assert isinstance(send, imds.Action.Send)
    assert f"\r\nUser-Agent: imds/{imds.__version__} (my-agent/1.2)\r\n".encode() in send.data
    client.cancel()


def test_a_pooled_connection_and_reset(mock: Mock) -> None:
    client = imds.Client(imds.load_settings(endpoint=mock.endpoint))
    client.start_get(0, "instance-id")
    assert isinstance(client.poll(0), imds.Action.Connect)
    client.handle_connected_reused(0)
    assert isinstance(client.poll(0), imds.Action.Send)
    assert isinstance(client.poll(0), imds.Action.Receive)
    # The pooled connection had been closed by the server: sent again on a new one.
    client.handle_eof(1)
    assert isinstance(client.poll(1), imds.Action.Close)
    assert isinstance(client.poll(1), imds.Action.Connect)
    client.handle_connected(1)
    client.reset()
    client.start_get(2, "instance-id")
    assert isinstance(client.poll(2), imds.Action.Connect), "reset forgot the connection"


def test_handle_closed_between_actions_only(mock: Mock) -> None:
    client = imds.Client(imds.load_settings(endpoint=mock.endpoint))
    client.handle_closed()
    client.start_get(0, "instance-id")
    client.handle_closed()
    assert isinstance(client.poll(0), imds.Action.Connect)
    try:
        client.handle_closed()
    except imds.InvalidStateError as error:
        assert error.kind == "invalid_state"
    else:
        raise AssertionError("expected InvalidStateError while a connect is pending")
