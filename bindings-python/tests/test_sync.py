"""The blocking driver over real sockets against the mock IMDS."""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import List, Optional, Tuple

import pytest

import imds
from conftest import (
    ACCESS_KEY_ID,
    EXPIRATION_UNIX,
    ROLE,
    SECRET_ACCESS_KEY,
    SESSION_TOKEN,
    Mock,
    script,
)

CREDENTIAL_REQUESTS = [
    "PUT /latest/api/token",
    "GET /latest/meta-data/iam/security-credentials/",
    f"GET /latest/meta-data/iam/security-credentials/{ROLE}",
]


def test_fetch_credentials_returns_what_the_mock_serves(mock: Mock) -> None:
    credentials = imds.fetch_credentials(endpoint=mock.endpoint)

    assert credentials.access_key_id == ACCESS_KEY_ID
    assert credentials.secret_access_key == SECRET_ACCESS_KEY
    assert credentials.session_token == SESSION_TOKEN
    assert credentials.expiration_timestamp == EXPIRATION_UNIX
    assert credentials.expiration == datetime(2030, 1, 1, tzinfo=timezone.utc)
    assert credentials.expiration_rfc3339 == "2030-01-01T00:00:00Z"
    assert credentials.account_id is None
    assert mock.lines() == CREDENTIAL_REQUESTS
    requests = mock.requests()
    assert [r["token_sent"] for r in requests] == [False, True, True]
    assert requests[0]["ttl"] == "21600"
    assert len({r["connection"] for r in requests}) == 1, "one keep-alive connection"


def test_endpoint_from_the_environment(mock: Mock, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", mock.endpoint)
    assert imds.fetch_credentials().access_key_id == ACCESS_KEY_ID


def test_ipv6_loopback(start_mock) -> None:  # type: ignore[no-untyped-def]
    mock = start_mock(script(), bind="::1")
    assert mock.endpoint.startswith("http://[::1]:")
    assert imds.fetch_credentials(endpoint=mock.endpoint).access_key_id == ACCESS_KEY_ID


def test_account_id_from_the_extended_api(start_mock) -> None:  # type: ignore[no-untyped-def]
    spec = script(extended_api=True)
    spec["credentials"]["AccountId"] = "210987654321"
    mock = start_mock(spec)
    credentials = imds.fetch_credentials(endpoint=mock.endpoint, credentials_api="extended")
    assert credentials.account_id == "210987654321"
    assert "security-credentials-extended" in mock.lines()[1]


def test_get_reads_a_metadata_path(start_mock) -> None:  # type: ignore[no-untyped-def]
    mock = start_mock(script(metadata={"placement/region": "eu-west-3"}))
    assert imds.get("placement/region", endpoint=mock.endpoint) == "eu-west-3"
    assert imds.get_bytes("placement/region", endpoint=mock.endpoint) == b"eu-west-3"
    assert mock.lines()[-1] == "GET /latest/meta-data/placement/region"


def test_chunked_bodies_and_connection_close(start_mock) -> None:  # type: ignore[no-untyped-def]
    mock = start_mock(script(chunked=True, connection_close=True))
    assert imds.fetch_credentials(endpoint=mock.endpoint).session_token == SESSION_TOKEN
    assert len({r["connection"] for r in mock.requests()}) == 3, "a new connection per request"


def test_imdsv1_fallback_is_logged_as_a_warning(start_mock, caplog) -> None:  # type: ignore[no-untyped-def]
    mock = start_mock(script(responses=[{"path": "/latest/api/token", "status": 403}]))
    with caplog.at_level(logging.DEBUG, logger="imds"):
        credentials = imds.fetch_credentials(endpoint=mock.endpoint)
    assert credentials.access_key_id == ACCESS_KEY_ID
    assert [r["token_sent"] for r in mock.requests()] == [False, False, False]
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert any("IMDSv1" in r.getMessage() for r in warnings)
    traces = [r.getMessage() for r in caplog.records if r.levelno == logging.DEBUG]
    assert "> PUT /latest/api/token" in traces


def test_diagnostics_never_contain_secrets(start_mock, caplog) -> None:  # type: ignore[no-untyped-def]
    mock = start_mock(script(responses=[{"path": "/latest/api/token", "status": 500}]))
    with caplog.at_level(logging.DEBUG, logger="imds"):
        credentials = imds.fetch_credentials(endpoint=mock.endpoint)
    text = caplog.text
    assert "retrying" in text or "attempt" in text
    for secret in (credentials.secret_access_key, credentials.session_token, "mock-imds-token"):
        assert secret not in text


def test_credentials_repr_shows_the_secrets_length_only(mock: Mock) -> None:
    credentials = imds.fetch_credentials(endpoint=mock.endpoint)
    shown = repr(credentials) + str(credentials)
    assert ACCESS_KEY_ID in shown
    assert SECRET_ACCESS_KEY not in shown
    assert SESSION_TOKEN not in shown
    assert f"secret_access_key=<redacted, {len(SECRET_ACCESS_KEY)} bytes>" in shown
    assert f"session_token=<redacted, {len(SESSION_TOKEN)} bytes>" in shown


def test_credentials_are_frozen_and_comparable(mock: Mock) -> None:
    first = imds.fetch_credentials(endpoint=mock.endpoint)
    second = imds.fetch_credentials(endpoint=mock.endpoint)
    assert first == second
    with pytest.raises(AttributeError):
        first.access_key_id = "x"  # type: ignore[misc]


def test_process_json_is_the_credential_process_format(mock: Mock) -> None:
    import json

    document = json.loads(imds.fetch_credentials(endpoint=mock.endpoint).to_process_json())
    assert list(document) == ["Version", "AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration"]
    assert document["Version"] == 1
    assert document["AccessKeyId"] == ACCESS_KEY_ID
    assert document["Expiration"] == "2030-01-01T00:00:00Z"


def test_settings_and_keywords_are_exclusive(mock: Mock) -> None:
    settings = imds.load_settings(endpoint=mock.endpoint)
    with pytest.raises(TypeError):
        imds.fetch_credentials(settings, timeout=1)
    assert imds.fetch_credentials(settings).access_key_id == ACCESS_KEY_ID


# An answer without `Connection: close`, after which the mock closes the connection anyway.
CLOSES_AFTER_THE_REGION = script(
    responses=[
        {
            "path": "/latest/meta-data/placement/region",
            "raw": "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nus-east-1",
        }
    ]
)


def region_then_instance_id(mock: Mock) -> Tuple[List[str], Optional[bytes]]:
    """Reads the region, waits until something arrives on the kept connection, then reads the
    instance id on the same client and connection: the diagnostics and the second body."""
    import select

    from imds import _sync

    client = imds.Client(imds.load_settings(endpoint=mock.endpoint))
    conn = _sync.Connection()
    messages: List[str] = []
    try:
        client.start_get(_sync.monotonic_ms(), "placement/region")
        _sync.run(client, conn, on_diagnostic=lambda d: messages.append(d.message))
        assert client.body() == b"us-east-1"
        assert conn.sock is not None, "kept: the answer did not say it closes"
        assert select.select([conn.sock], [], [], 5)[0], "something arrives on the kept connection"
        client.start_get(_sync.monotonic_ms(), "instance-id")
        _sync.run(client, conn, on_diagnostic=lambda d: messages.append(d.message))
        return messages, client.body()
    finally:
        conn.close()


def test_a_kept_connection_the_server_closed_is_noticed_before_the_next_request(start_mock) -> None:  # type: ignore[no-untyped-def]
    messages, _ = region_then_instance_id(start_mock(CLOSES_AFTER_THE_REGION))
    sent = [m for m in messages if m.startswith("> GET /latest/meta-data/instance-id")]
    assert len(sent) == 1, f"one request, none on the dead connection: {messages}"


# The region's answer, then 50 ms later an answer nobody asked for on the kept connection.
UNSOLICITED = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nearly"
ANSWER_BEHIND_THE_REGION = script(
    responses=[
        {
            "path": "/latest/meta-data/placement/region",
            "then_send": UNSOLICITED,
            "then_send_after_ms": 50,
        }
    ]
)


def test_an_answer_arriving_on_the_kept_connection_between_operations_is_discarded(start_mock) -> None:  # type: ignore[no-untyped-def]
    mock = start_mock(ANSWER_BEHIND_THE_REGION)
    messages, body = region_then_instance_id(mock)
    assert body == b"i-0123456789abcdef0", "the real answer, not the unsolicited one"
    assert [m for m in messages if "no request asked for" in m] == [
        f"IMDS sent {len(UNSOLICITED)} bytes that no request asked for: closed the connection, "
        "discarded them and dropped the token that came on it"
    ]
    # The token came on the connection that brought the stray answer: a new one is asked for.
    assert [(r["connection"], r["path"]) for r in mock.requests()[-2:]] == [
        (2, "/latest/api/token"),
        (2, "/latest/meta-data/instance-id"),
    ]


def test_a_body_dripping_after_its_head_times_out(start_mock) -> None:  # type: ignore[no-untyped-def]
    import time

    mock = start_mock(
        script(
            responses=[
                {"path": f"/latest/meta-data/iam/security-credentials/{ROLE}", "drip_ms": 100, "drip_after_head": True}
            ]
        )
    )
    started = time.monotonic()
    with pytest.raises(imds.TimedOutError) as raised:
        imds.fetch_credentials(endpoint=mock.endpoint, timeout=0.5)
    assert str(raised.value) == "timed out waiting for IMDS in the credentials request"
    assert time.monotonic() - started < 10, "the request's deadline, not a cap of 30 s"
