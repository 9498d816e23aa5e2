"""Runner for the Python contenders behind the bench runner protocol (see tests/bench/bench.py).

    python runner_python.py imds|botocore http://127.0.0.1:PORT

imds: cold is ``imds.fetch_credentials(settings)`` (a new client, no cache); warm is one long-lived
``imds.Provider`` whose refresh window (3600 s) covers the mock's credentials (they expire 30 min
after the bench starts), so every call refreshes with the cached token and role.

botocore: cold is a new ``InstanceMetadataFetcher`` in an ``InstanceMetadataProvider`` and
``load()``, as botocore's credential chain does; warm is the same long-lived fetcher's
``retrieve_iam_role_credentials()``, which is what botocore's refreshable credentials call when
they refresh (botocore keeps no token between calls; its urllib3 pool keeps the connection).
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Callable, List


def contender(name: str, endpoint: str) -> "tuple[Callable[[], str], Callable[[], str]]":
    if name == "imds":
        import imds

        settings = imds.load_settings(endpoint=endpoint)
        provider = imds.Provider(imds.load_settings(endpoint=endpoint, refresh_window=3600))
        return (
            lambda: imds.fetch_credentials(settings).access_key_id,
            lambda: provider.credentials().access_key_id,
        )
    if name == "botocore":
        from botocore.credentials import InstanceMetadataProvider
        from botocore.utils import InstanceMetadataFetcher

        def cold() -> str:
            fetcher = InstanceMetadataFetcher(timeout=1, num_attempts=1, base_url=endpoint)
            credentials = InstanceMetadataProvider(iam_role_fetcher=fetcher).load()
            if credentials is None:
                raise RuntimeError("botocore found no credentials")
            return str(credentials.access_key)

        long_lived = InstanceMetadataFetcher(timeout=1, num_attempts=1, base_url=endpoint)

        def warm() -> str:
            found = long_lived.retrieve_iam_role_credentials()
            if not found:
                raise RuntimeError("botocore found no credentials")
            return str(found["access_key"])

        return cold, warm
    raise SystemExit(f"unknown contender {name}")


def run(fetch: Callable[[], str], count: int, expected: "str | None") -> str:
    samples: List[float] = []
    clock = time.perf_counter
    for _ in range(count):
        start = clock()
        try:
            key = fetch()
        except Exception as error:  # reported, not raised: the harness shows the contender as failed
            return json.dumps({"error": f"{type(error).__name__}: {error}"[:300]})
        samples.append((clock() - start) * 1e6)
        if expected is not None and key != expected:
            return json.dumps({"error": f"unexpected access key id {key}"})
    return json.dumps({"us": [round(s, 2) for s in samples]})


def main() -> None:
    if len(sys.argv) != 3 or not sys.argv[2].startswith(("http://127.0.0.1:", "http://[::1]:")):
        raise SystemExit("usage: runner_python.py imds|botocore http://127.0.0.1:PORT (loopback only)")
    cold, warm = contender(sys.argv[1], sys.argv[2])
    expected = os.environ.get("BENCH_EXPECT_KEY")
    for line in sys.stdin:
        words = line.split()
        if not words or words[0] == "quit":
            break
        count = int(words[1]) if len(words) > 1 else 1
        if words[0] == "cold":
            reply = run(cold, count, expected)
        elif words[0] in ("warm", "prime"):
            reply = run(warm, count, expected)
        else:
            reply = json.dumps({"error": f"unknown command {words[0]}"})
        sys.stdout.write(reply + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
