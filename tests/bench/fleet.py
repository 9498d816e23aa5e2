"""`make bench-fleet`: many processes fetching credentials at once from one throttled IMDS.

A host restarts its workers, a node starts 100 pods, an Ansible run forks 50 processes: every one
asks IMDS at once, and IMDS throttles (a request rate per instance, a limit on connections). For
each contender, fleet size N and throttle mode, one run:

1. starts `imds-mock` with a throttle (default 500 requests/s, burst 50, 64 connections; past
   them it answers 429, refuses new connections, or accepts and drops them) and a request log;
2. starts N processes of the contender; each starts up (runtime, libraries, imports), reports
   `ready` and blocks at a barrier;
3. once all N are ready, releases them together (one close of a FIFO wakes every reader), so the
   burst measures IMDS traffic, not start-up;
4. each process fetches credentials once and prints them as its program does, and reports the
   time it finished; the run ends when all have exited, or kills what is left at a deadline.

Figures per run: how many processes got credentials (exit 0 with the expected access key id
printed; a process killed by the kernel or the harness counts as failed), the per-process times
from the release to the program's end (median, p99, max: the max is the time until the last one
had credentials), the requests and 429s the mock saw, requests per success, and the busiest
100 ms of the run (from the mock's log, every request with its time).

The barrier (tests/bench/fleet/): the harness holds two FIFOs open, `FLEET_BARRIER` (for
writing) and `FLEET_REPORT` (for reading). A process opens both, writes `ready ID` on the report
FIFO and reads the barrier FIFO until end of file, which comes when the harness closes its end:
every process is woken by the same close. It then runs the program under test unchanged and
writes `done ID RELEASED_NS DONE_NS STATUS` (CLOCK_MONOTONIC). How each program is held:

* C `imds`: fleet_c.c includes ffi-c/c/imds.c with its `main` renamed and calls it after the
  barrier (the process is exec'd and its libraries mapped before it);
* `python -m imds` and botocore's script: fleet_python.py imports the program's modules, waits,
  then runs the program with `runpy`, exactly as `python -m imds credentials` or `python SCRIPT`;
* the Node bin and @smithy's script: `node -r fleet_barrier.cjs PROGRAM`, a preload that requires
  the program's modules (the addon included), waits, and lets Node run the program itself;
* aws-config: the program `make bench` builds waits once its tokio runtime is up (src/fleet.rs).

Everything a program does from its settings on (environment, config file, client, requests,
printing) happens after the release, as it would in a process started at that moment.

    python tests/bench/fleet.py --config tests/bench/out/config.json [--out FLEET.md]
    python tests/bench/fleet.py --self-check --mock PATH --imds PATH   (a tiny offline run)

Run it inside `scripts/loopback-only`: every endpoint is the mock's 127.0.0.1 port.
"""

from __future__ import annotations

import argparse
import atexit
import datetime as dt
import json
import os
import select
import shutil
import signal
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench  # noqa: E402  (the sibling harness: the mock, the machine and the versions)

HERE = Path(__file__).resolve().parent
FLEET_DIR = HERE / "fleet"
EXPECTED_KEY = bench.EXPECTED_KEY
MODES = ("429", "refuse", "drop")
WINDOW_US = 100_000
# IMDS does not share the instance's CPUs; the mock does. At a higher priority it answers while
# hundreds of clients compete for two cores, so their timeouts measure the clients, not a starved
# mock. (`nice` still runs the mock, at normal priority, where raising it is not permitted.)
MOCK_PRIORITY = ["nice", "-n", "-10"]


# ---------------------------------------------------------------------------------------------
# Contenders


@dataclass
class Contender:
    """A program started N times. `argv[0]` is an absolute path."""

    name: str
    argv: List[str]
    sizes: Sequence[int]
    env: Dict[str, str] = field(default_factory=dict)
    # What one process needs, roughly, to decide whether N of them fit in memory.
    mib_per_process: int = 10
    ours: bool = False


def contenders(config: Dict[str, Any], native_sizes: Sequence[int], runtime_sizes: Sequence[int]) -> List[Contender]:
    py, pkg = config["python"], Path(config["node_package"])
    node = shutil.which(config["node"]) or config["node"]
    python_barrier = str(FLEET_DIR / "fleet_python.py")
    node_barrier = str(FLEET_DIR / "fleet_barrier.cjs")
    return [
        Contender("imds (C)", [config["fleet_c"], "credentials"], native_sizes, mib_per_process=3, ours=True),
        Contender("imds (Python)", [py, python_barrier, "--preload", "imds.__main__", "-m", "imds", "credentials"],
                  runtime_sizes, mib_per_process=15, ours=True),
        Contender("imds (Node)", [node, "-r", node_barrier, str(pkg / "bin" / "imds.js"), "credentials"], runtime_sizes,
                  env={"FLEET_PRELOAD": "../lib/native.js,../lib/driver.js"}, mib_per_process=50, ours=True),
        Contender("aws-config", [config["aws_config_credentials"]], native_sizes, mib_per_process=10),
        Contender("botocore", [py, python_barrier, "--preload", "botocore.credentials,botocore.utils",
                               str(HERE / "runners" / "botocore_credentials.py")], runtime_sizes, mib_per_process=35),
        Contender("@smithy", [node, "-r", node_barrier, str(pkg / "bench" / "smithy-credentials.js")], runtime_sizes,
                  env={"FLEET_PRELOAD": "@smithy/credential-provider-imds"}, mib_per_process=55),
    ]


def throttle_script(mode: str, rate: float, burst: int, max_connections: int) -> Dict[str, Any]:
    script = bench.bench_script("2030-01-01T00:00:00Z")
    script["throttle"] = {"rate": rate, "burst": burst, "max_connections": max_connections, "mode": mode}
    return script


# ---------------------------------------------------------------------------------------------
# Processes: one process group per run, killed as a whole


class ProcessGroup:
    """The processes of one run, in one process group led by an anchor (`cat` reading a pipe the
    harness holds: it ends by itself if the harness dies), so `killpg` stops them all and
    `waitpid(-group)` reaps only them."""

    live: List["ProcessGroup"] = []

    def __init__(self) -> None:
        read_end, self.anchor_pipe = os.pipe()
        self.pgid = os.posix_spawn("/bin/cat", ["cat"], os.environ, setpgroup=0, file_actions=[
            (os.POSIX_SPAWN_DUP2, read_end, 0),
            (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
        ])
        os.close(read_end)
        self.exits: Dict[int, int] = {}
        ProcessGroup.live.append(self)

    def spawn(self, argv: List[str], env: Dict[str, str], stdout: Path, stderr: Path) -> int:
        return os.posix_spawn(argv[0], argv, env, setpgroup=self.pgid, file_actions=[
            (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
            (os.POSIX_SPAWN_OPEN, 1, str(stdout), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644),
            (os.POSIX_SPAWN_OPEN, 2, str(stderr), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644),
        ])

    def reap(self) -> None:
        """Collects the exit status of every member that has ended (the anchor included)."""
        while True:
            try:
                pid, status = os.waitpid(-self.pgid, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            self.exits[pid] = status

    def kill(self) -> None:
        """Kills every member still running and reaps them all."""
        try:
            os.killpg(self.pgid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        while True:
            try:
                pid, status = os.waitpid(-self.pgid, 0)
            except ChildProcessError:
                break
            self.exits[pid] = status
        if self.anchor_pipe >= 0:
            os.close(self.anchor_pipe)
            self.anchor_pipe = -1
        if self in ProcessGroup.live:
            ProcessGroup.live.remove(self)


def kill_everything() -> None:
    for group in list(ProcessGroup.live):
        group.kill()


def exit_on_signal(signum: int, _frame: Any) -> None:
    raise SystemExit(f"fleet: stopped by signal {signum}")


def describe_status(status: int) -> str:
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        try:
            return f"killed by {signal.Signals(sig).name}"
        except ValueError:
            return f"killed by signal {sig}"
    return f"exit {os.waitstatus_to_exitcode(status)}"


def rss_mib(pids: Sequence[int]) -> Optional[float]:
    total_kib = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total_kib += int(line.split()[1])
        except OSError:
            pass
    return total_kib / 1024 if total_kib else None


def available_mib() -> Optional[float]:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


# ---------------------------------------------------------------------------------------------
# The mock's log


def busiest_window(times_us: Sequence[int], width_us: int = WINDOW_US) -> Tuple[int, int]:
    """The most requests in any window of `width_us` (each window ends at a request) and where
    that window starts."""
    ordered = sorted(times_us)
    best, best_start, first = 0, 0, 0
    for last, at in enumerate(ordered):
        while ordered[first] <= at - width_us:
            first += 1
        if last - first + 1 > best:
            best, best_start = last - first + 1, max(0, at - width_us)
    return best, best_start


def release_wave_end(requests: Sequence[Dict[str, Any]], n: int) -> Optional[int]:
    """When the N-th connection sent its first request: by then every process has sent its first
    request (a process opens its first connection before any other), so the requests up to here
    are the release wave, which no client can spread."""
    first: Dict[int, int] = {}
    for r in requests:
        first.setdefault(r["connection"], int(r["time_us"]))
    ordered = sorted(first.values())
    return ordered[n - 1] if len(ordered) >= n else (ordered[-1] if ordered else None)


def log_figures(entries: Sequence[Dict[str, Any]], n: int) -> Dict[str, Any]:
    requests = [e for e in entries if "event" not in e]
    events = [e for e in entries if "event" in e]
    outcomes: Dict[str, int] = {}
    statuses: Dict[str, int] = {}
    for r in requests:
        outcomes[r.get("outcome", "served")] = outcomes.get(r.get("outcome", "served"), 0) + 1
        statuses[str(r.get("status"))] = statuses.get(str(r.get("status")), 0) + 1
    kinds: Dict[str, int] = {}
    for e in events:
        kinds[e["event"]] = kinds.get(e["event"], 0) + 1
    window, window_start = busiest_window([int(r["time_us"]) for r in requests]) if requests else (0, 0)
    times = [int(r["time_us"]) for r in requests]
    wave_end = release_wave_end(requests, n)
    in_wave = [r for r in requests if wave_end is not None and int(r["time_us"]) <= wave_end]
    after = [int(r["time_us"]) for r in requests if wave_end is not None and int(r["time_us"]) > wave_end]
    connection_ids = [int(e["connection"]) for e in entries if "connection" in e]
    return {
        # Connections are numbered in accept order: the highest number is how many were accepted.
        "accepted_connections": max(connection_ids) if connection_ids else 0,
        "release_wave": {"end_us": wave_end, "requests": len(in_wave),
                         "throttled": sum(1 for r in in_wave if r.get("outcome") == "throttled")},
        "busiest_100ms_after_wave": busiest_window(after)[0] if after else 0,
        "requests": len(requests),
        "connections": len({r["connection"] for r in requests}),
        "outcomes": outcomes,
        "statuses": statuses,
        "events": kinds,
        "busiest_100ms": window,
        "busiest_100ms_start_us": window_start,
        "first_request_us": min(times) if times else None,
        "last_request_us": max(times) if times else None,
    }


def per_100ms(entries: Sequence[Dict[str, Any]], origin_us: int) -> List[Tuple[int, int, int]]:
    """(served, throttled, other) per 100 ms bin from `origin_us`: the run's shape over time."""
    bins: Dict[int, List[int]] = {}
    for r in entries:
        if "event" in r:
            continue
        slot = bins.setdefault(max(0, int(r["time_us"]) - origin_us) // WINDOW_US, [0, 0, 0])
        outcome = r.get("outcome")
        slot[0 if outcome == "served" else 1 if outcome == "throttled" else 2] += 1
    return [tuple(bins.get(i, [0, 0, 0])) for i in range(max(bins) + 1)] if bins else []  # type: ignore[misc]


# ---------------------------------------------------------------------------------------------
# One run


@dataclass
class RunLimits:
    ready_timeout_s: float = 180.0
    run_timeout_s: float = 90.0


def read_lines(fd: int, pending: bytearray, timeout_s: float) -> List[str]:
    """Complete lines from the report FIFO, waiting at most `timeout_s` for the first."""
    ready, _, _ = select.select([fd], [], [], max(0.0, timeout_s))
    if ready:
        try:
            pending.extend(os.read(fd, 1 << 16))
        except BlockingIOError:
            pass
    lines: List[str] = []
    while b"\n" in pending:
        line, _, rest = bytes(pending).partition(b"\n")
        pending[:] = rest
        lines.append(line.decode(errors="replace"))
    return lines


def last_line(path: Path) -> str:
    try:
        lines = [line.strip() for line in path.read_text(errors="replace").splitlines() if line.strip()]
    except OSError:
        return ""
    return lines[-1][:200] if lines else ""


def run_fleet(contender: Contender, n: int, mode: str, mock_binary: str, script: Dict[str, Any], base_env: Dict[str, str],
              scratch: Path, limits: RunLimits) -> Dict[str, Any]:
    """Starts the mock and N processes, releases them, and returns every figure of the run."""
    run_dir = Path(tempfile.mkdtemp(prefix=f"n{n}-", dir=scratch))
    log = run_dir / "requests.jsonl"
    result: Dict[str, Any] = {"contender": contender.name, "n": n, "mode": mode, "load_before": os.getloadavg()[0]}
    missing = [a for a in contender.argv[:1] if not Path(a).exists()]
    if missing:
        result["failed"] = f"not built: {missing[0]}"
        return result
    available = available_mib()
    need = n * contender.mib_per_process
    if available is not None and need > available - 2048:
        result["failed"] = f"not run: {n} processes need about {need / 1024:.1f} GiB, {available / 1024:.1f} GiB available"
        return result
    barrier_path, report_path = run_dir / "barrier", run_dir / "report"
    os.mkfifo(barrier_path)
    os.mkfifo(report_path)
    # O_RDWR: the harness is a writer of the barrier (so readers block) and a reader of the
    # report (so writers never block on open); neither fd is inherited (O_CLOEXEC by default).
    barrier_fd = os.open(barrier_path, os.O_RDWR)
    report_fd = os.open(report_path, os.O_RDWR | os.O_NONBLOCK)
    mock = bench.Mock(mock_binary, script, log, prefix=MOCK_PRIORITY)
    mock_origin_ns = time.monotonic_ns()  # the mock's clock starts just before it prints its address
    env = dict(base_env)
    env.update(contender.env)
    env.update({"AWS_EC2_METADATA_SERVICE_ENDPOINT": mock.endpoint, "FLEET_BARRIER": str(barrier_path),
                "FLEET_REPORT": str(report_path)})
    group = ProcessGroup()
    pids: Dict[int, int] = {}
    ready: set = set()
    done: Dict[int, Tuple[int, int, int]] = {}
    pending = bytearray()
    release_ns = None
    try:
        for i in range(n):
            env["FLEET_ID"] = str(i)
            try:
                pids[group.spawn(contender.argv, env, run_dir / f"{i}.out", run_dir / f"{i}.err")] = i
            except OSError as error:
                result["failed"] = f"could not start: {error}"
                return result
        deadline = time.monotonic() + limits.ready_timeout_s
        while len(ready) < n and time.monotonic() < deadline:
            for line in read_lines(report_fd, pending, 0.05):
                words = line.split()
                if len(words) == 2 and words[0] == "ready":
                    ready.add(int(words[1]))
            group.reap()
            if all(pid in group.exits for pid, i in pids.items() if i not in ready):
                break  # every process not ready has ended: it never will be
        result["ready"] = len(ready)
        result["rss_mib_at_barrier"] = rss_mib([p for p, i in pids.items() if i in ready])
        release_ns = time.monotonic_ns()
        os.close(barrier_fd)
        barrier_fd = -1
        deadline = time.monotonic() + limits.run_timeout_s
        while time.monotonic() < deadline:
            for line in read_lines(report_fd, pending, 0.02):
                words = line.split()
                if len(words) == 5 and words[0] == "done":
                    done[int(words[1])] = (int(words[2]), int(words[3]), int(words[4]))
            group.reap()
            if all(pid in group.exits for pid in pids):
                break
        killed_by_harness = [i for pid, i in pids.items() if pid not in group.exits]
    finally:
        group.kill()
        if barrier_fd >= 0:
            os.close(barrier_fd)
        for line in read_lines(report_fd, pending, 0):
            words = line.split()
            if len(words) == 5 and words[0] == "done":
                done[int(words[1])] = (int(words[2]), int(words[3]), int(words[4]))
        os.close(report_fd)
        mock.stop()
    entries = bench.read_log(log)

    times_ms: List[float] = []
    wake_ms: List[float] = []
    failures: Dict[str, int] = {}
    for pid, i in pids.items():
        status = group.exits.get(pid)
        out = run_dir / f"{i}.out"
        printed = out.exists() and EXPECTED_KEY in out.read_text(errors="replace")
        if i in killed_by_harness:
            reason = f"killed by the harness after {limits.run_timeout_s:.0f} s" if i in ready else "never ready"
        elif status is not None and os.WIFSIGNALED(status):
            reason = describe_status(status)
        elif status is not None and os.waitstatus_to_exitcode(status) == 0 and printed and i in done:
            released, finished, _ = done[i]
            times_ms.append((finished - release_ns) / 1e6)
            wake_ms.append((released - release_ns) / 1e6)
            continue
        else:
            reason = last_line(run_dir / f"{i}.err") or (describe_status(status) if status is not None else "no status")
        failures[reason] = failures.get(reason, 0) + 1
    figures = log_figures(entries, n)
    ordered = sorted(times_ms)
    result.update({
        "successes": len(times_ms),
        "failures": dict(sorted(failures.items(), key=lambda kv: -kv[1])),
        "time_ms": {"median": statistics.median(ordered), "p99": bench.quantile(ordered, 0.99), "max": ordered[-1]}
        if ordered else None,
        "wake_ms": {"median": statistics.median(wake_ms), "max": max(wake_ms)} if wake_ms else None,
        "log": figures,
        "requests_per_success": figures["requests"] / len(times_ms) if times_ms else None,
        # The mock's time 0 on the harness's clock is within a millisecond of mock_origin_ns.
        "release_at_mock_us": (release_ns - mock_origin_ns) // 1000 if release_ns else None,
    })
    origin = result["release_at_mock_us"] or 0
    result["shape_100ms"] = per_100ms(entries, origin)
    for path in run_dir.iterdir():
        path.unlink()
    run_dir.rmdir()
    return result


def summary_line(r: Dict[str, Any]) -> str:
    if "failed" in r:
        return f"  {r['contender']} N={r['n']} {r['mode']}: FAILED ({r['failed']})"
    t = r["time_ms"]
    times = f"{t['median']:.0f}/{t['p99']:.0f}/{t['max']:.0f} ms" if t else "-"
    rps = f"{r['requests_per_success']:.2f}" if r["requests_per_success"] else "-"
    log = r["log"]
    return (f"  {r['contender']} N={r['n']} {r['mode']}: {r['successes']}/{r['n']} ok, median/p99/max {times}, "
            f"{log['requests']} requests ({log['outcomes']}), {rps} per success, busiest 100 ms {log['busiest_100ms']}"
            + (f"; failures: {r['failures']}" if r["failures"] else ""))


# ---------------------------------------------------------------------------------------------
# Report


def fmt_ms(value: Optional[float]) -> str:
    if value is None:
        return "—"
    return f"{value:,.0f}" if value >= 10 else f"{value:.1f}"


def refused_or_dropped(r: Dict[str, Any]) -> str:
    log = r["log"]
    parts = []
    if log["outcomes"].get("dropped"):
        parts.append(f"{log['outcomes']['dropped']} requests dropped")
    if log["events"].get("connection_dropped"):
        parts.append(f"{log['events']['connection_dropped']} connections dropped on arrival")
    if log["events"].get("stopped_listening"):
        parts.append(f"stopped listening {log['events']['stopped_listening']}×")
    return ", ".join(parts) or "—"


def run_row(r: Dict[str, Any], limit: int) -> str:
    if "failed" in r:
        return f"| {r['contender']} | {r['n']} | failed: {r['failed']} | | | | | | | |"
    t = r["time_ms"] or {}
    log = r["log"]
    rps = f"{r['requests_per_success']:.2f}" if r["requests_per_success"] is not None else "—"
    throttled = log["outcomes"].get("throttled", 0)
    return (f"| {r['contender']} | {r['n']} | {r['successes']} / {r['n']} | {fmt_ms(t.get('median'))} | "
            f"{fmt_ms(t.get('p99'))} | {fmt_ms(t.get('max'))} | {log['requests']:,} | {throttled:,} | {rps} | "
            f"{log['busiest_100ms']} / {log['busiest_100ms_after_wave']} |")


def render(data: Dict[str, Any]) -> str:
    p = data["parameters"]
    limit = int(2 * p["rate"] * WINDOW_US / 1e6)
    lines = ["# `make bench-fleet` results", "",
             "Reproduce with `make bench-fleet` (installs and builds what `make bench` does, then runs inside "
             "`scripts/loopback-only` against `imds-mock` on 127.0.0.1); this file is rewritten by each run.", ""]
    m = data["machine"]
    lines.append(f"Machine: {m['nproc']} CPUs ({m['cpu']}), {m['memory']} memory, Linux {m['kernel']}; {m['date']}.")
    lines.append("")
    lines.append("Versions: " + "; ".join(f"{k} {v}" for k, v in data["versions"].items()) + ".")
    lines.append("")
    lines.append(
        f"Throttle: a token bucket of {p['rate']:g} requests/s with a burst of {p['burst']}, at most "
        f"{p['max_connections']} connections open at once. Each run starts N processes of one contender, holds "
        f"each at a barrier once it has started up, releases them together, and ends when all have exited "
        f"(what is left after {p['run_timeout_s']:.0f} s is killed and counts as failed). Every contender runs "
        f"with its default settings (imds: 4 attempts per request, timeout 1 s; after a 429 a back-off below "
        f"min(2 s, 1 s × 2^(k−1)), after a 5xx below min(1 s, 50 ms × 2^(k−1))).")
    lines.append("")
    lines.append("Columns: processes that got credentials; per-process time from the release to the end of the "
                 "program (median, p99, max: the max is the time until the last one had credentials), in ms; "
                 "requests the mock saw and how many it answered 429; requests per process that got credentials; "
                 f"the most requests in any 100 ms of the run, and after the release wave (twice the bucket's rate is "
                 f"{limit}). The release wave lasts until the N-th connection sent its first request: by then every "
                 f"process has sent its first request, a burst of N that no client can spread.")
    lines.append("")
    for mode in data["modes"]:
        runs = [r for r in data["runs"] if r["mode"] == mode]
        if not runs:
            continue
        lines.append(f"### Mode `{mode}`: {MODE_TEXT[mode]}")
        lines.append("")
        lines.append("| contender | N | got credentials | median | p99 | max | requests | 429s | requests / success | busiest 100 ms: all / after the wave |")
        lines.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        lines.extend(run_row(r, limit) for r in runs)
        lines.append("")
        failing = [r for r in runs if "failed" not in r and r["failures"]]
        if failing:
            lines.append("What the processes that failed said (count × the last line of stderr)"
                         + (", and what the mock did:" if mode != "429" else ":"))
            lines.append("")
            for r in failing:
                said = "; ".join(f"{count} × `{reason}`" for reason, count in list(r["failures"].items())[:3])
                mock = f" Mock: {refused_or_dropped(r)}." if mode != "429" else ""
                lines.append(f"- {r['contender']}, N = {r['n']}: {said}.{mock}")
            lines.append("")
    lines.append("### Summary")
    lines.append("")
    lines.extend(f"- {line}" for line in summary(data))
    lines.append("")
    lines.append("### Criteria (issue 15), 429 mode, imds with default settings")
    lines.append("")
    lines.extend(f"- {line}" for line in criteria(data))
    lines.append("")
    lines.append("### Notes")
    lines.append("")
    lines.extend(f"- {line}" for line in data.get("notes", []))
    lines.append("")
    lines.append(f"Total run time: {data['elapsed_s']:.0f} s.")
    return "\n".join(lines) + "\n"


MODE_TEXT = {
    "429": "past the rate, requests are answered 429; past the connection limit, each request is answered 429 "
           "and the connection closed",
    "refuse": "while the bucket is empty or the connections are at the limit, the mock does not listen (connects "
              "are refused); a request on an open connection that finds the bucket empty is dropped",
    "drop": "past the rate, a request is read and its connection closed without an answer; a connection past "
            "the limit is accepted and closed at once",
}


# Measured before the core backed off longer after a 429 (commit 4ec34d1: a 429 was retried on the
# 5xx schedule, below min(1 s, 50 ms x 2^(k-1))), two runs of the C command on this machine:
#   git checkout 4ec34d1 && make bench-fleet FLEET_CONTENDERS="imds (C)" FLEET_MODES=429
BEFORE_429_SCHEDULE = (
    "Before the 429 back-off (commit 4ec34d1, a 429 retried on the 5xx schedule: below 50 ms, 100 ms, 200 ms; "
    "`git checkout 4ec34d1 && make bench-fleet FLEET_CONTENDERS=\"imds (C)\" FLEET_MODES=429`, two runs): the C "
    "command got credentials in 32 / 32, 93–100 / 128 and 168–194 / 512 processes, with 3.9–4.3, 9.9–10.9 and "
    "22–25 requests per success. The mock's log shows why: a throttled process spent its 4 attempts per request "
    "within 350 ms (175 ms on average), while the bucket needs (3N − 50) / 500 s to serve a fleet (3 s for "
    "N = 512); at N = 512 the mock saw 4,220 requests in the first second after the release, 400–690 per "
    "100 ms against the bucket's 50, and answered 3,710–3,750 of them 429; every process that failed had exhausted a request's attempts (the token request falls back to IMDSv1 instead, so "
    "the failures name the role and credentials requests). With the same back-off and 10 attempts "
    "(`AWS_METADATA_SERVICE_NUM_ATTEMPTS=10`) all 512 got credentials, at 10.3–10.5 requests per success. "
    "Spreading the retries over seconds instead (the 429 schedule now: below 1 s, 2 s, 2 s) serves every "
    "process with 4 attempts at half those requests; a decorrelated-jitter variant (U[500 ms, 3 × previous], cap "
    "2 s) measured within a few percent of it (4.7–4.9 requests per success at N = 512), so the simpler full "
    "jitter was kept.")


def notes(data: Dict[str, Any]) -> List[str]:
    """What the figures of this run say, with the figures."""
    out: List[str] = []
    runs = [r for r in data["runs"] if "failed" not in r]
    loads = [r["load_before"] for r in data["runs"] if "load_before" in r]
    if loads:
        out.append(f"The machine was shared: its 1-minute load average was {min(loads):.1f}–{max(loads):.1f} when the "
                   f"runs started. Everything runs on its 2 CPUs, the mock too (at nice −10, since IMDS does not share "
                   f"the instance's CPUs): a fleet of Python or Node processes is CPU-bound here, so their times grow "
                   f"with N by the runtime's own work per fetch, not by IMDS.")
    ours_429 = [r for r in runs if r["mode"] == "429" and r["contender"].startswith("imds")]
    if ours_429:
        worst = max(ours_429, key=lambda r: r["n"] - r["successes"])
        all_ok = all(r["successes"] == r["n"] for r in ours_429)
        out.append(
            ("Every imds process got credentials at every N in the 429 mode" if all_ok else
             f"In the 429 mode, imds missed credentials in {worst['n'] - worst['successes']} of {worst['n']} processes "
             f"({worst['contender']})") +
            ", with the default settings (4 attempts per request; after a 429 the back-off is a random time below "
            "min(2 s, 1 s × 2^(k−1))). The price is paid by small fleets: a process that meets a 429 now waits up "
            "to a second, so at N = 32 the C command's median went from about 50 ms to "
            + next((f"{fmt_ms(r['time_ms']['median'])} ms" for r in ours_429
                    if r["contender"] == "imds (C)" and r["n"] == 32 and r["time_ms"]), "(not measured)")
            + " (max about 150 ms before, "
            + next((f"{fmt_ms(r['time_ms']['max'])} ms" for r in ours_429
                    if r["contender"] == "imds (C)" and r["n"] == 32 and r["time_ms"]), "not measured")
            + " now).")
        waves = ", ".join(
            f"{r['contender']} N = {r['n']}: {r['log']['release_wave']['throttled']} of "
            f"{r['log']['release_wave']['requests']}" for r in ours_429 if r["n"] >= 128)
        out.append(
            "Requests per success ≤ 3.3 and no 100 ms above twice the rate cannot both hold from the release on, for "
            "any client: the release wave (until every process has sent its first request) already holds N "
            "requests in a few tens of milliseconds, and all but the bucket's 50 plus what it refills meanwhile "
            f"are answered 429 ({waves} requests of the wave were 429s). Those 429s alone put requests per success "
            "at 3 + 429s ÷ N (see the criteria above). What a client can do is spread its retries, which the "
            "columns after the wave measure.")
    out.append(BEFORE_429_SCHEDULE)
    for mode, text in (("refuse", "refused"), ("drop", "dropped")):
        mode_runs = [r for r in runs if r["mode"] == mode and r["contender"].startswith("imds")]
        if not mode_runs:
            continue
        figures = "; ".join(f"{r['contender']} N = {r['n']}: {r['successes']} / {r['n']}" for r in mode_runs)
        out.append(
            f"{mode.capitalize()} mode, imds with its defaults ({figures}): a connection {text} by IMDS is a "
            "transport failure retried within `attempts` (4 by default) after the 5xx back-off, below "
            "min(1 s, 50 ms × 2^(k−1)): at most 0.35 s over the four tries. "
            + ("In a burst most connections complete their TCP handshake while the mock still listens and are "
               "then closed unanswered when it stops (\"IMDS closed or reset the connection\"); later ones are "
               "refused (\"could not connect\")" if mode == "refuse" else
               "Past the rate a request is read and its connection closed, past the connection limit the "
               "connection is closed at once (\"IMDS closed or reset the connection\")")
            + ". A third of a second spreads a few dozen processes, not hundreds behind a limit of "
            f"{data['parameters']['max_connections']} connections: the processes that lose every try fail. "
            "Decision: the default stays. IMDS signals its rate limit with 429, which gets the longer "
            "throttled back-off; giving a refused connection that back-off too would make a wrong endpoint "
            "(a refused connection, the usual local mistake) take seconds to report instead of a third of one. "
            "A fleet that expects connection limits sets `attempts` (10 spreads the tries over up to 7.35 s; "
            "the README gives a run with `AWS_METADATA_SERVICE_NUM_ATTEMPTS=10`).")
    peers = {}
    for r in runs:
        if r["mode"] == "429" and not r["contender"].startswith("imds"):
            peers.setdefault(r["contender"], []).append(f"{r['successes']} / {r['n']}")
    if peers:
        out.append("The other providers with their defaults in the 429 mode: " + "; ".join(
            f"{name} {', '.join(v)}" for name, v in peers.items()) +
            " (by default aws-config's IMDS client retries 5xx and 401 but not 429; botocore makes one attempt; "
            "@smithy retries nothing).")
    return out


def summary(data: Dict[str, Any]) -> List[str]:
    """A few lines for the README: who got credentials, at what cost, in each mode."""
    out: List[str] = []

    def got(runs: List[Dict[str, Any]]) -> str:
        by_name: Dict[str, List[str]] = {}
        for r in runs:
            figure = "failed" if "failed" in r else f"{r['successes']}/{r['n']}"
            by_name.setdefault(r["contender"], []).append(figure)
        return "; ".join(f"{name} {', '.join(figures)}" for name, figures in by_name.items())

    ok = [r for r in data["runs"] if "failed" not in r]
    ours = [r for r in ok if r["mode"] == "429" and r["contender"].startswith("imds")]
    if ours:
        rps = [r["requests_per_success"] for r in ours if r["requests_per_success"]]
        after = [r["log"]["busiest_100ms_after_wave"] for r in ours]
        out.append(f"429 mode, imds with its defaults: got credentials {got(ours)}; "
                   f"{min(rps):.2f}–{max(rps):.2f} requests per success; after the release wave at most "
                   f"{max(after)} requests in 100 ms (twice the rate: {int(2 * data['parameters']['rate'] / 10)}).")
    peers = [r for r in data["runs"] if r["mode"] == "429" and not r["contender"].startswith("imds")]
    if peers:
        out.append(f"429 mode, the other providers with their defaults: got credentials {got(peers)}.")
    for mode in ("refuse", "drop"):
        runs = [r for r in data["runs"] if r["mode"] == mode and r["contender"].startswith("imds")]
        if runs:
            out.append(f"{mode} mode, imds with its defaults (a refused or dropped connection is retried within the 4 "
                       f"attempts after the 5xx back-off): got credentials {got(runs)}.")
    return out


def criteria(data: Dict[str, Any]) -> List[str]:
    p = data["parameters"]
    limit = int(2 * p["rate"] * WINDOW_US / 1e6)
    out = []
    for r in data["runs"]:
        if r["mode"] != "429" or not r["contender"].startswith("imds"):
            continue
        if "failed" in r:
            out.append(f"{r['contender']}, N = {r['n']}: not measured ({r['failed']})")
            continue
        wave = r["log"]["release_wave"]
        floor = 3 + wave["throttled"] / r["n"]
        checks = [
            ("every process got credentials", r["successes"] == r["n"], f"{r['successes']} / {r['n']}"),
            ("requests per success ≤ 3.3", (r["requests_per_success"] or 99) <= 3.3,
             (f"{r['requests_per_success']:.2f}" if r["requests_per_success"] else "—")
             + f"; the release wave's {wave['throttled']} 429s alone make it ≥ {floor:.2f}"),
            (f"no 100 ms with more than {limit} requests", r["log"]["busiest_100ms"] <= limit,
             f"{r['log']['busiest_100ms']}, the release wave of {wave['requests']} requests included"),
            (f"after the release wave, no 100 ms with more than {limit}", r["log"]["busiest_100ms_after_wave"] <= limit,
             str(r["log"]["busiest_100ms_after_wave"])),
        ]
        verdict = "; ".join(f"{name}: {'yes' if ok else 'NO'} ({figure})" for name, ok, figure in checks)
        out.append(f"{r['contender']}, N = {r['n']}: {verdict}")
    return out


# ---------------------------------------------------------------------------------------------
# Self-check (make test): a tiny fleet against the debug mock, offline, a few seconds


SELF_CHECK_PROGRAM = r"""
import subprocess, sys, time
if sys.argv[1] == "hang":
    time.sleep(3600)
done = subprocess.run([sys.argv[2], "credentials"])
sys.exit(done.returncode)
"""


def self_check(mock_binary: str, imds_command: str) -> int:
    problems: List[str] = []
    if busiest_window([0, 10, 99_999, 100_000, 250_000]) != (3, 0) or busiest_window([5]) != (1, 0):
        problems.append("busiest_window miscounts")
    synthetic = [{"connection": c, "time_us": t} for c, t in ((1, 0), (1, 5), (2, 7), (3, 20), (2, 30))]
    if (release_wave_end(synthetic, 2), release_wave_end(synthetic, 3)) != (7, 20):
        problems.append("release_wave_end is not the N-th connection's first request")
    with tempfile.TemporaryDirectory() as scratch_name:
        scratch = Path(scratch_name)
        program = scratch / "program.py"
        program.write_text(SELF_CHECK_PROGRAM)
        launcher = [sys.executable, str(FLEET_DIR / "fleet_python.py"), str(program)]
        base_env = bench.clean_env(scratch, "http://127.0.0.1:1")
        script = throttle_script("429", 1000, 2, 64)
        started = time.monotonic()
        fetch = run_fleet(Contender("imds (Rust), started after the barrier", launcher + ["fetch", imds_command], [4]),
                          4, "429", mock_binary, script, base_env, scratch, RunLimits(30, 30))
        print(summary_line(fetch))
        if fetch.get("successes") != 4:
            problems.append(f"4 imds commands released together: {fetch.get('successes')} got credentials ({fetch.get('failures')})")
        elif fetch["log"]["requests"] < 12 or fetch["log"]["outcomes"].get("throttled", 0) < 1:
            problems.append(f"a burst of 2 should throttle 4 fetches: {fetch['log']}")
        elif abs(fetch["requests_per_success"] - fetch["log"]["requests"] / 4) > 1e-9:
            problems.append("requests per success")
        stuck = run_fleet(Contender("hangs", launcher + ["hang"], [2]), 2, "429", mock_binary, script, base_env,
                          scratch, RunLimits(30, 1))
        print(summary_line(stuck))
        if stuck.get("successes") != 0 or sum(stuck.get("failures", {}).values()) != 2:
            problems.append(f"processes that hang must be killed and count as failed: {stuck}")
        crash = run_fleet(Contender("crashes", launcher[:1] + ["-c", "import sys; sys.exit(3)"], [2]), 2, "429",
                          mock_binary, script, base_env, scratch, RunLimits(30, 5))
        print(summary_line(crash))
        if crash.get("ready") != 0 or crash.get("successes") != 0:
            problems.append(f"processes that end before the barrier count as failed: {crash}")
        if time.monotonic() - started > 60:
            problems.append("the self-check took over a minute")
    for problem in problems:
        print(f"fleet self-check: {problem}", file=sys.stderr)
    print(f"fleet self-check: {'FAILED' if problems else 'ok'} (barrier, counting, a hanging and a crashing fleet)")
    return 1 if problems else 0


# ---------------------------------------------------------------------------------------------
# Main


def sizes(text: str) -> List[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--config", help="JSON file with the paths of everything measured (make bench-config)")
    parser.add_argument("--out", help="write the report here (Markdown)")
    parser.add_argument("--json-out", help="write every figure here (JSON)")
    parser.add_argument("--self-check", action="store_true")
    parser.add_argument("--render", metavar="JSON", help="rewrite the report from a run's --json-out, measuring nothing")
    parser.add_argument("--mock")
    parser.add_argument("--imds")
    parser.add_argument("--rate", type=float, default=float(os.environ.get("FLEET_RATE", "500")))
    parser.add_argument("--burst", type=int, default=int(os.environ.get("FLEET_BURST", "50")))
    parser.add_argument("--max-connections", type=int, default=int(os.environ.get("FLEET_MAX_CONNECTIONS", "64")))
    parser.add_argument("--native-sizes", type=sizes, default=sizes(os.environ.get("FLEET_NATIVE_SIZES", "32,128,512")),
                        help="N for the C command and aws-config")
    parser.add_argument("--runtime-sizes", type=sizes, default=sizes(os.environ.get("FLEET_RUNTIME_SIZES", "32,128,256")),
                        help="N for the Python and Node contenders")
    parser.add_argument("--modes", default=os.environ.get("FLEET_MODES", ",".join(MODES)))
    parser.add_argument("--contenders", default=os.environ.get("FLEET_CONTENDERS", ""),
                        help="comma-separated names (default: all)")
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                        help="an environment variable for every process (AWS_METADATA_SERVICE_NUM_ATTEMPTS=10, ...)")
    parser.add_argument("--run-timeout", type=float, default=float(os.environ.get("FLEET_RUN_TIMEOUT", "90")))
    args = parser.parse_args()
    atexit.register(kill_everything)
    signal.signal(signal.SIGTERM, exit_on_signal)
    if args.self_check:
        return self_check(args.mock, args.imds)
    if args.render:
        data = json.loads(Path(args.render).read_text())
        data["notes"] = notes(data)
        bench.write_outputs(render(data), data, args.out, None)
        return 0
    if not args.config:
        parser.error("--config is needed")
    config = json.loads(Path(args.config).read_text())
    modes = [m for m in args.modes.split(",") if m]
    unknown = [m for m in modes if m not in MODES]
    if unknown:
        parser.error(f"unknown mode {unknown[0]} (modes: {', '.join(MODES)})")
    chosen = [c for c in contenders(config, args.native_sizes, args.runtime_sizes)
              if not args.contenders or c.name in args.contenders.split(",")]
    limits = RunLimits(run_timeout_s=args.run_timeout)
    started = time.monotonic()
    runs: List[Dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="imds-fleet-") as scratch_name:
        scratch = Path(scratch_name)
        home = scratch / "home"
        home.mkdir()
        base_env = bench.clean_env(home, "http://127.0.0.1:1", {"BENCH_NODE_PACKAGE_DIR": config["node_package"]})
        base_env.update(dict(item.split("=", 1) for item in args.env))
        for mode in modes:
            script = throttle_script(mode, args.rate, args.burst, args.max_connections)
            for contender in chosen:
                for n in contender.sizes:
                    result = run_fleet(contender, n, mode, config["mock"], script, base_env, scratch, limits)
                    print(summary_line(result), flush=True)
                    runs.append(result)
    data = {
        "notes": [],
        "machine": bench.machine(),
        "versions": bench.versions(config),
        "parameters": {"rate": args.rate, "burst": args.burst, "max_connections": args.max_connections,
                       "run_timeout_s": args.run_timeout, "env": args.env},
        "modes": modes,
        "runs": runs,
        "elapsed_s": time.monotonic() - started,
        "date": dt.datetime.now(dt.timezone.utc).isoformat(),
    }
    data["notes"] = notes(data)
    bench.write_outputs(render(data), data, args.out, args.json_out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
