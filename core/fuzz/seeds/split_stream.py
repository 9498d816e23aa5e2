"""Writes seed scripts for the split_stream fuzz target (format: see fuzz_targets/split_stream.rs).

Run from core/fuzz: python3 seeds/split_stream.py

A script is the settings byte, the behaviour byte (bit 0: careless host; 1: the server writes
unasked bytes on accept; 2: after every answer; 3: it closes after every answer; high nibble: what
it writes unasked), a seed byte, then for each operation its byte (low bits 0/1: credentials,
2 and 3: metadata reads), a pause byte and an event byte, followed by the host's answers. An
exhausted script answers 0: connected, sent, the proper answer, everything read at once.
"""
import pathlib

CAREFUL, CARELESS = 0, 1
ON_ACCEPT, AFTER_ANSWER, CLOSES = 2, 4, 8
CREDENTIALS, GET = 0, 2
# Receive answers: everything that arrived, or 1 to 64 bytes 0 to 750 ms after the last read.
ALL = 0


def piece(size: int, delay_quarters: int = 0) -> int:
    return 4 + (delay_quarters << 6) + (size - 1)


def token_response_len(ttl: str = "21600", token_len: int = 56) -> int:
    head = (f"HTTP/1.1 200 X\r\nx-aws-ec2-metadata-token-ttl-seconds: {ttl}\r\n"
            f"Content-Length: {token_len}\r\n\r\n")
    return len(head) + token_len


def pieces(total: int, size: int = 64) -> bytes:
    """Reads exactly `total` bytes in pieces of at most `size`."""
    out = []
    while total > 0:
        n = min(size, total)
        out.append(piece(n))
        total -= n
    return bytes(out)


def header(settings: int = 0, behaviour: int = CAREFUL, seed: int = 42) -> bytes:
    return bytes([settings, behaviour, seed])


def op(kind: int = CREDENTIALS, pause: int = 0, event: int = 0) -> bytes:
    return bytes([kind, pause, event])


# connect, send, answer shape, receive: the proper exchange byte by byte.
CONNECT, SENT, PROPER = 0, 0, 0
ROLE = 0  # index into ROLE_LISTS
exchange = bytes([CONNECT, SENT, PROPER, ALL, SENT, PROPER, ROLE, ALL, SENT, PROPER, ALL, 0])

SEEDS = {
    # Token, role list, credentials; 21,000 s later (inside the refresh window) again.
    "legacy": header() + op() + exchange + op(CREDENTIALS, 102) + bytes([SENT, PROPER, ALL, 0]),
    "extended-configured-role": header(settings=2 | 4) + op() + bytes([CONNECT, SENT, PROPER, ALL, SENT, 0x40, ALL, 0]),
    # The same exchange read in pieces of 1 to 64 bytes, some late.
    "pieces": header() + op() + bytes([CONNECT, SENT, PROPER, piece(1), piece(7, 1), piece(64), piece(64), piece(64),
                                       SENT, PROPER, ROLE, piece(3), piece(64),
                                       SENT, PROPER] + [piece(33, 3)] * 16 + [0]),
    # A drip: one byte every 750 ms.
    "drip": header() + op() + bytes([CONNECT, SENT, PROPER] + [piece(1, 3)] * 200),
    "get-chunked": header() + op(GET) + bytes([CONNECT, SENT, PROPER, ALL, SENT, 5, ALL, 1])
    + op(GET) + bytes([CONNECT, SENT, 6, ALL, 0]),
    # The server writes a response on every accept: the careful host sees it before writing.
    "unasked-on-accept": header(settings=8 | 0x30, behaviour=CAREFUL | ON_ACCEPT) + op(),
    # ... the careless host reads it as the token, and the token as the role list.
    "unasked-on-accept-careless": header(behaviour=CARELESS | ON_ACCEPT) + op(),
    # A copy of each answer follows it; read exactly up to the first copy, the token comes back
    # as the role list to a careless host.
    "copy-after-answer-careless": header(behaviour=CARELESS | AFTER_ANSWER) + op()
    + bytes([CONNECT, SENT, PROPER]) + pieces(token_response_len()) + bytes([SENT, PROPER, ALL]),
    "copy-after-answer": header(behaviour=CAREFUL | AFTER_ANSWER) + op()
    + bytes([CONNECT, SENT, PROPER]) + pieces(token_response_len()),
    # Bytes on the kept connection between operations; then the server closes it.
    "unasked-between-operations": header() + op() + exchange + op(CREDENTIALS, 255, 1) + bytes([2, 0])
    + op(CREDENTIALS, 255, 2),
    # Statuses: 401 on the role list, 503 twice, 404 on credentials, then an error document.
    "statuses": header(settings=8 | 0x30) + op() + bytes([CONNECT, SENT, PROPER, ALL, SENT, 7, 0, ALL,
                                                         SENT, PROPER, ALL, SENT, 7, 6, ALL, SENT, 7, 6, ALL,
                                                         SENT, PROPER, ROLE, ALL, SENT, 7, 2, ALL,
                                                         SENT, PROPER, ROLE, ALL, SENT, 11, 0, 12])
    + b"no trust\x1b[2J",
    # A secret access key with control characters in it (JSON escapes), then a role list with them.
    "control-characters-in-credentials": header() + op() + bytes([CONNECT, SENT, PROPER, ALL, SENT, PROPER, ROLE, ALL,
                                                                  SENT, 15, 6]) + b"\x1b[2J\r\n" + bytes([1, ALL, 0])
    + op(CREDENTIALS, 0, 4) + bytes([CONNECT, SENT, PROPER, ALL, SENT, 15, 4]) + b"r\x00\x07x" + bytes([ALL]),
    # Resets, timeouts, end of stream.
    "failures": header(settings=8 | 0x30 | 0x40) + op() + bytes([1, 2, CONNECT, 1, CONNECT, SENT, PROPER, 1,
                                                                CONNECT, SENT, PROPER, 2,
                                                                CONNECT, SENT, 10, 40, ALL]),
}

out = pathlib.Path(__file__).parent / "split_stream"
out.mkdir(exist_ok=True)
for name, data in SEEDS.items():
    (out / name).write_bytes(data)
