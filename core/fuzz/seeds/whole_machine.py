"""Writes seed scripts for the whole_machine fuzz target (format: see fuzz_targets/whole_machine.rs).

Run from core/fuzz: python3 seeds/whole_machine.py
"""
import json
import pathlib

CONNECTED, SENT, EOF, TIMEOUT = b"\x00", b"\x00", b"\x00", b"\x01"
CREDENTIALS, GET = b"\x00", b"\x01"


def receive(data: bytes) -> bytes:
    """The response arriving in pieces of at most 253 bytes."""
    out = b""
    for start in range(0, len(data), 253):
        piece = data[start:start + 253]
        out += bytes([len(piece) + 2]) + piece
    return out


def response(status: str, body: bytes, headers: str = "") -> bytes:
    return (f"HTTP/1.1 {status}\r\n{headers}Content-Length: {len(body)}\r\n\r\n").encode() + body


def chunked(body: bytes) -> bytes:
    half = len(body) // 2
    parts = [body[:half], body[half:]]
    chunks = b"".join(f"{len(p):x}\r\n".encode() + p + b"\r\n" for p in parts)
    return b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks + b"0\r\n\r\n"


TOKEN = response("200 OK", b"AQAEAExampleToken==", "x-aws-ec2-metadata-token-ttl-seconds: 21600\r\n")
ROLE = response("200 OK", b"my-role")
CREDS = json.dumps({
    "Code": "Success", "LastUpdated": "2025-01-01T00:00:00Z", "Type": "AWS-HMAC",
    "AccessKeyId": "ASIAEXAMPLEKEYID", "SecretAccessKey": "wJalrXUtnFEMIK7MDENG^bPxRfiCYEXAMPLEKEY",
    "Token": "AQoEXAMPLEH4aoAH0gNCAPyJxz4^BlCFFxWNE1OPTgk5TthT", "Expiration": "2025-01-01T06:00:00Z",
    "AccountId": "123456789101", "Unexpected": {"Name": ["x", 1, True, None]},
}).encode()
EXPIRED = CREDS.replace(b"2025-01-01T06:00:00Z", b"2024-12-31T23:00:00Z")


def step(reply: bytes) -> bytes:
    return SENT + receive(reply)


def start(op: bytes, pause: bytes = b"\x00\x00") -> bytes:
    return op + pause


HEADER = lambda flags: bytes([flags]) + b"\x2a" * 8  # noqa: E731

SEEDS = {
    "legacy": HEADER(0) + start(CREDENTIALS) + CONNECTED + step(TOKEN) + step(ROLE)
    + step(response("200 OK", CREDS)) + b"\x00"
    # 21420 s later: inside the refresh window, token still fresh, role cached, connection kept.
    + start(CREDENTIALS, bytes([84, 85])) + step(response("200 OK", CREDS)) + b"\x00",
    "extended": HEADER(2) + start(CREDENTIALS) + CONNECTED + step(TOKEN) + step(ROLE)
    + step(response("200 OK", CREDS)) + b"\x00",
    "extended-legacy-fallback": HEADER(2) + start(CREDENTIALS) + CONNECTED + step(TOKEN)
    + step(response("404 Not Found", b"")) + step(ROLE) + step(response("200 OK", CREDS)) + b"\x00",
    "get-chunked": HEADER(0) + start(GET) + CONNECTED + step(TOKEN) + step(chunked(b"us-east-1")) + b"\x01"
    + start(GET) + CONNECTED + step(response("200 OK", b"us-west-2", "Connection: close\r\n")) + b"\x00",
    "token-403-v1": HEADER(0) + start(CREDENTIALS) + CONNECTED + step(response("403 Forbidden", b""))
    + step(ROLE) + step(chunked(CREDS)) + b"\x00",
    "token-timeout-v1-disabled": HEADER(1) + start(CREDENTIALS) + CONNECTED + SENT + TIMEOUT,
    "retries-then-static-stability": HEADER(0) + start(CREDENTIALS) + CONNECTED + step(TOKEN) + step(ROLE)
    + step(response("200 OK", EXPIRED)) + b"\x00"
    + start(CREDENTIALS, b"\x40\x40") + step(response("500 Internal Server Error", b""))
    + step(response("503 Service Unavailable", b"")) + step(response("500 Internal Server Error", b""))
    + step(response("500 Internal Server Error", b"")),
    "rejected": HEADER(4) + start(CREDENTIALS) + CONNECTED + step(TOKEN)
    + step(response("200 OK", b'{"Code":"AssumeRoleUnauthorizedAccess","Message":"no trust"}')),
}

out = pathlib.Path(__file__).parent / "whole_machine"
out.mkdir(exist_ok=True)
for name, data in SEEDS.items():
    (out / name).write_bytes(data)
