"""Every error kind of the core reaches Python as its own `imds.ImdsError` subclass."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Dict, Optional, Type

import pytest

import imds
from imds import _imds
from imds.errors import BY_KIND
from conftest import ROLE, Mock, RawServer, closed_port, script

CREDENTIALS_PATH = f"/latest/meta-data/iam/security-credentials/{ROLE}"


def test_every_kind_has_a_class_and_every_class_a_kind() -> None:
    assert sorted(BY_KIND) == sorted(_imds.ERROR_KINDS)
    for kind, cls in BY_KIND.items():
        assert cls.kind == kind
        assert issubclass(cls, imds.ImdsError)


def test_families_and_builtin_bases() -> None:
    assert issubclass(imds.TimedOutError, TimeoutError)
    assert issubclass(imds.TimedOutError, imds.TransportError)
    assert issubclass(imds.ConnectFailedError, ConnectionError)
    assert issubclass(imds.InvalidSettingError, ValueError)
    assert issubclass(imds.InvalidSettingError, imds.ConfigurationError)
    assert issubclass(imds.NoRoleError, imds.RefusedError)
    assert issubclass(imds.HttpStatusError, imds.ProtocolError)


def fetch(endpoint: str, **explicit: Any) -> None:
    imds.fetch_credentials(endpoint=endpoint, **explicit)


# kind -> (mock script or None for a closed port, extra settings)
SCENARIOS: Dict[str, Any] = {
    "connect_failed": (None, {}),
    "timeout": (script(responses=[{"path": CREDENTIALS_PATH, "delay_ms": 2000, "times": 0}]), {"timeout": 0.2}),
    "connection_closed": (script(responses=[{"path": CREDENTIALS_PATH, "cut_off": True, "times": 0}]), {}),
    "response_too_large": (script(responses=[{"path": CREDENTIALS_PATH, "oversize": 20000}]), {}),
    "http_status": (script(responses=[{"path": "/latest/api/token", "status": 400}]), {}),
    "invalid_token": (script(responses=[{"path": "/latest/api/token", "body": "t" * 600}]), {}),
    "v1_fallback_blocked": (
        script(responses=[{"path": "/latest/api/token", "status": 403}]),
        {"v1_disabled": True},
    ),
    "no_role": (script(role=None), {}),
    "invalid_role_name": (
        script(responses=[{"path": "/latest/meta-data/iam/security-credentials/", "body": "bad role!"}]),
        {},
    ),
    "role_unstable": (script(responses=[{"path": CREDENTIALS_PATH, "status": 404, "times": 0}]), {}),
    "invalid_instance_profile": (script(), {"instance_profile_name": "not-this-role"}),
    "credentials_rejected": (
        script(credentials={"Code": "AssumeRoleUnauthorizedAccess", "Message": "no trust"}),
        {},
    ),
    "malformed_credentials": (script(responses=[{"path": CREDENTIALS_PATH, "body": "{not json"}]), {}),
}


@pytest.mark.parametrize("kind", sorted(SCENARIOS))
def test_exchange_failures(kind: str, start_mock: Callable[..., Mock]) -> None:
    spec, explicit = SCENARIOS[kind]
    endpoint = f"http://127.0.0.1:{closed_port()}" if spec is None else start_mock(spec).endpoint
    with pytest.raises(imds.ImdsError) as raised:
        fetch(endpoint, **explicit)
    error = raised.value
    assert type(error) is BY_KIND[kind]
    assert error.kind == kind
    assert error.exit_code == 1
    assert error.line() == f"imds: {error}\n"
    assert str(error)


def test_http_status_carries_the_status(start_mock: Callable[..., Mock]) -> None:
    mock = start_mock(script(responses=[{"path": "/latest/api/token", "status": 400}]))
    with pytest.raises(imds.HttpStatusError) as raised:
        fetch(mock.endpoint)
    assert raised.value.status == 400
    assert "400" in str(raised.value)


def test_rejected_credentials_say_what_to_do(start_mock: Callable[..., Mock]) -> None:
    mock = start_mock(script(credentials={"Code": "AssumeRoleUnauthorizedAccess", "Message": "m"}))
    with pytest.raises(imds.CredentialsRejectedError, match="trust relationship"):
        fetch(mock.endpoint)


def test_malformed_http(raw_server: Callable[[Optional[bytes]], RawServer]) -> None:
    server = raw_server(b"this is not HTTP at all\r\n\r\n")
    with pytest.raises(imds.MalformedResponseError) as raised:
        fetch(server.endpoint)
    assert raised.value.kind == "malformed_response"


def test_disabled_makes_no_request(mock: Mock, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with pytest.raises(imds.DisabledError) as raised:
        fetch(mock.endpoint)
    assert raised.value.kind == "disabled"
    assert raised.value.exit_code == 3
    assert "AWS_EC2_METADATA_DISABLED" in str(raised.value)
    assert mock.requests() == []


def test_invalid_setting_names_the_variable_and_source(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_METADATA_SERVICE_TIMEOUT", "soon")
    with pytest.raises(imds.InvalidSettingError) as raised:
        imds.load_settings()
    message = str(raised.value)
    assert "AWS_METADATA_SERVICE_TIMEOUT" in message and "(env)" in message and "soon" in message
    assert raised.value.exit_code == 2
    with pytest.raises(ValueError):
        imds.load_settings(attempts="zero")


def test_config_file_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "config"
    config.write_text("[default\nec2_metadata_v1_disabled = true\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    with pytest.raises(imds.ConfigFileError) as raised:
        imds.load_settings()
    assert raised.value.kind == "config_file"
    assert "line 1" in str(raised.value)


def test_invalid_state_and_argument(mock: Mock) -> None:
    client = imds.Client(imds.load_settings(endpoint=mock.endpoint))
    with pytest.raises(imds.InvalidArgumentError) as raised:
        client.start_get(0, "bad path")
    assert raised.value.kind == "invalid_argument"
    client.start_credentials(0, 0)
    with pytest.raises(imds.InvalidStateError) as state:
        client.start_get(0, "instance-id")
    assert state.value.kind == "invalid_state"


def test_io_error_reported_by_the_host(mock: Mock) -> None:
    client = imds.Client(imds.load_settings(endpoint=mock.endpoint))
    client.start_credentials(0, 0)
    assert isinstance(client.poll(0), imds.Action.Connect)
    client.handle_connected(1)
    assert isinstance(client.poll(1), imds.Action.Send)
    with pytest.raises(imds.IoFailedError) as raised:
        client.handle_io_error(2, imds.IoError.Other)
        client.poll(2)
    assert raised.value.kind == "io"


def test_a_reset_reported_by_the_host_is_retried(mock: Mock) -> None:
    client = imds.Client(imds.load_settings(endpoint=mock.endpoint))
    client.start_credentials(0, 0)
    assert isinstance(client.poll(0), imds.Action.Connect)
    client.handle_connected(1)
    assert isinstance(client.poll(1), imds.Action.Send)
    client.handle_io_error(2, imds.IoError.ConnectionReset)
    assert isinstance(client.poll(2), imds.Action.Wait)


def test_connection_reset_by_the_server(raw_server: Callable[[Optional[bytes]], RawServer]) -> None:
    # Reset on every attempt: one failure however the reset showed (connect, send or receive).
    server = raw_server(None)
    with pytest.raises(imds.ConnectionClosedError) as raised:
        fetch(server.endpoint)
    assert raised.value.kind == "connection_closed"
    assert str(raised.value) == (
        "IMDS closed or reset the connection before the response was complete in the token request"
    )


def test_unsupported_maps_to_its_class() -> None:
    # No Python driver path produces `unsupported` (both drivers speak TLS): the mapping is checked.
    cls: Type[imds.ImdsError] = BY_KIND["unsupported"]
    assert cls is imds.UnsupportedError and issubclass(cls, imds.ClientUsageError)
