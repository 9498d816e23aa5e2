"""Benchmark: imds next to botocore's own IMDS credentials code, on the same mock, in the same run.

Prints figures; asserts nothing. Two comparisons:

* per fetch (in this process): one whole credentials exchange (IMDSv2 token, role name,
  credentials) with `imds.fetch_credentials` (a fresh client, so no cache) and with botocore's
  `InstanceMetadataFetcher.retrieve_iam_role_credentials` (the code behind botocore's
  `iam-role` provider), alternating in rounds;
* per process: `python -m imds` against a script that gets the same credentials through botocore
  (its instance-metadata provider alone, and the whole session credential chain), measuring wall
  time and peak resident memory of each child process.

Usage: IMDS_MOCK=target/release/imds-mock .venv/bin/python bindings-python/bench/bench.py
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Dict, List, Tuple

REPO_ROOT = Path(__file__).resolve().parents[2]
MOCK = Path(os.environ.get("IMDS_MOCK", REPO_ROOT / "target" / "release" / "imds-mock"))
FETCH_ROUNDS = int(os.environ.get("BENCH_FETCH_ROUNDS", "10"))
FETCHES_PER_ROUND = int(os.environ.get("BENCH_FETCHES_PER_ROUND", "50"))
PROCESS_RUNS = int(os.environ.get("BENCH_PROCESS_RUNS", "15"))

BOTOCORE_FETCHER_SCRIPT = """
import json, sys
from botocore.credentials import InstanceMetadataProvider
from botocore.utils import InstanceMetadataFetcher
fetcher = InstanceMetadataFetcher(timeout=1, num_attempts=1, base_url=sys.argv[1])
creds = InstanceMetadataProvider(iam_role_fetcher=fetcher).load().get_frozen_credentials()
print(json.dumps({"AccessKeyId": creds.access_key, "SecretAccessKey": creds.secret_key,
                  "SessionToken": creds.token}))
"""

BOTOCORE_SESSION_SCRIPT = """
import json
import botocore.session
creds = botocore.session.get_session().get_credentials().get_frozen_credentials()
print(json.dumps({"AccessKeyId": creds.access_key, "SecretAccessKey": creds.secret_key,
                  "SessionToken": creds.token}))
"""


def start_mock() -> Tuple[subprocess.Popen, str]:  # type: ignore[type-arg]
    process = subprocess.Popen(
        [str(MOCK), "--until-stdin-closes"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    line = process.stdout.readline().strip()
    if not line.startswith("listening "):
        raise SystemExit(f"imds-mock did not start: {line!r}")
    return process, "http://" + line.split(" ", 1)[1]


def time_per_call(call: Callable[[], object], count: int) -> float:
    """Mean seconds per call over `count` calls."""
    start = time.perf_counter()
    for _ in range(count):
        call()
    return (time.perf_counter() - start) / count


def per_fetch(endpoint: str) -> Dict[str, List[float]]:
    import imds
    from botocore.utils import InstanceMetadataFetcher

    settings = imds.load_settings(endpoint=endpoint)
    fetcher = InstanceMetadataFetcher(timeout=1, num_attempts=1, base_url=endpoint)
    provider = imds.Provider(settings)
    candidates: Dict[str, Callable[[], object]] = {
        "imds.fetch_credentials (fresh client)": lambda: imds.fetch_credentials(settings),
        "botocore InstanceMetadataFetcher": fetcher.retrieve_iam_role_credentials,
        "imds.Provider.credentials (cached)": provider.credentials,
    }
    assert fetcher.retrieve_iam_role_credentials()["access_key"] == imds.fetch_credentials(settings).access_key_id
    for call in candidates.values():  # warm up
        time_per_call(call, 20)
    results: Dict[str, List[float]] = {name: [] for name in candidates}
    for _ in range(FETCH_ROUNDS):
        for name, call in candidates.items():
            results[name].append(time_per_call(call, FETCHES_PER_ROUND))
    provider.close()
    return results


GNU_TIME = Path("/usr/bin/time")


def run_child(args: List[str], env: Dict[str, str], scratch: Path) -> Tuple[float, int, bytes]:
    """Wall seconds, peak RSS (KiB) and stdout of one child process.

    The peak RSS comes from GNU time, which forks the child from its own small process: a child
    spawned from this (large) process would inherit this process's high-water mark at exec.
    """
    report = scratch / "rss"
    start = time.perf_counter()
    done = subprocess.run(
        [str(GNU_TIME), "-f", "%M", "-o", str(report)] + args, env=env, capture_output=True
    )
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{args} failed: {done.stderr.decode()}")
    return elapsed, int(report.read_text().split()[-1]), done.stdout


def per_process(endpoint: str) -> Dict[str, Tuple[List[float], List[int]]]:
    with tempfile.TemporaryDirectory() as home:
        empty = Path(home, "empty")
        empty.write_text("")
        env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": home,
            "AWS_CONFIG_FILE": str(empty),
            "AWS_SHARED_CREDENTIALS_FILE": str(empty),
            "AWS_EC2_METADATA_SERVICE_ENDPOINT": endpoint,
        }
        python = sys.executable
        commands = {
            "python -m imds": [python, "-m", "imds"],
            "botocore InstanceMetadataProvider script": [python, "-c", BOTOCORE_FETCHER_SCRIPT, endpoint],
            "botocore session chain script": [python, "-c", BOTOCORE_SESSION_SCRIPT],
            "python -c pass (interpreter alone)": [python, "-c", "pass"],
        }
        keys = set()
        for name, args in commands.items():  # warm the page cache; check they agree
            out = run_child(args, env, Path(home))[2]
            if out:
                keys.add(json.loads(out)["AccessKeyId"])
        assert len(keys) == 1, f"the commands disagree: {keys}"
        results: Dict[str, Tuple[List[float], List[int]]] = {name: ([], []) for name in commands}
        for _ in range(PROCESS_RUNS):
            for name, args in commands.items():
                elapsed, rss, _ = run_child(args, env, Path(home))
                results[name][0].append(elapsed)
                results[name][1].append(rss)
        return results


def main() -> None:
    if not GNU_TIME.exists():
        raise SystemExit("bench: /usr/bin/time (GNU time) is needed for peak memory: apt-get install time")
    import botocore
    import imds

    mock, endpoint = start_mock()
    try:
        print(f"imds {imds.__version__}, botocore {botocore.__version__}, Python {sys.version.split()[0]}")
        print(f"mock: {MOCK} at {endpoint}")
        print()
        fetch = per_fetch(endpoint)
        print(f"per fetch ({FETCH_ROUNDS} rounds x {FETCHES_PER_ROUND} fetches, median of round means):")
        medians = {name: statistics.median(values) for name, values in fetch.items()}
        for name, value in medians.items():
            print(f"  {name:<42} {value * 1e6:9.1f} us")
        ratio = medians["imds.fetch_credentials (fresh client)"] / medians["botocore InstanceMetadataFetcher"]
        print(f"  imds / botocore per fetch: {ratio:.3f}x (target <= 0.5x)")
        print()
        processes = per_process(endpoint)
        print(f"per process ({PROCESS_RUNS} runs each, interleaved; median wall time, median peak RSS):")
        summary = {}
        for name, (times, rss) in processes.items():
            summary[name] = (statistics.median(times), statistics.median(rss))
            print(f"  {name:<42} {summary[name][0] * 1e3:8.1f} ms {summary[name][1] / 1024:8.1f} MiB")
        ours = summary["python -m imds"]
        for other in ("botocore InstanceMetadataProvider script", "botocore session chain script"):
            theirs = summary[other]
            print(
                f"  python -m imds / {other}: time {ours[0] / theirs[0]:.3f}x, "
                f"peak memory {ours[1] / theirs[1]:.3f}x (target <= 0.35x)"
            )
    finally:
        assert mock.stdin is not None
        mock.stdin.close()
        mock.wait(timeout=10)


if __name__ == "__main__":
    main()
