"""The sans-IO client driven by hand with `match`, as a host with its own event loop would."""

from __future__ import annotations

import socket

import imds
from conftest import ACCESS_KEY_ID, Mock


def drive_by_hand(client: imds.Client, now: int) -> list[str]:
    """A minimal host loop: every action the core asks for, carried out over a blocking socket."""
    seen: list[str] = []
    sock: socket.socket | None = None
    try:
        while True:
            now += 1
            match client.poll(now):
                case imds.Action.Connect(host, port, tls, deadline):
                    assert not tls and deadline > now
                    sock = socket.create_connection((host, port), timeout=5)
                    seen.append("connect")
                    client.handle_connected(now)
                case imds.Action.Send(data, deadline):
                    assert sock is not None and deadline > now
                    sock.sendall(data)
                    seen.append("send")
                case imds.Action.Receive(deadline):
                    assert sock is not None
                    data = sock.recv(65536)
                    seen.append("receive")
                    if data:
                        client.handle_data(now, data)
                    else:
                        client.handle_eof(now)
                case imds.Action.Close():
                    if sock is not None:
                        sock.close()
                        sock = None
                case imds.Action.Wait(until):
                    now = until
                case imds.Action.Done():
                    return seen
    finally:
        if sock is not None:
            sock.close()


def test_match_on_actions(mock: Mock) -> None:
    client = imds.Client(imds.load_settings(endpoint=mock.endpoint), seed=7)
    client.start_credentials(0, 1_700_000_000)
    seen = drive_by_hand(client, 0)
    assert seen[0] == "connect" and seen.count("connect") == 1
    assert seen.count("send") == 3
    credentials = client.credentials()
    assert credentials is not None and credentials.access_key_id == ACCESS_KEY_ID
    diagnostics = client.drain_diagnostics()
    assert [d.message for d in diagnostics if d.level == "trace"][:2] == [
        "> PUT /latest/api/token",
        "< 200",
    ]
    assert client.poll_diagnostic() is None


def test_second_operation_reads_the_cache(mock: Mock) -> None:
    client = imds.Client(imds.load_settings(endpoint=mock.endpoint))
    client.start_credentials(0, 1_700_000_000)
    drive_by_hand(client, 0)
    client.start_credentials(1000, 1_700_000_010)
    assert drive_by_hand(client, 1000) == [], "no I/O at all: the credentials are still fresh"
    assert len(mock.requests()) == 3
