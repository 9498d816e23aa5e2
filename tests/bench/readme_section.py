"""Rewrites the README's benchmark sections from tests/bench/RESULTS.md and tests/bench/FLEET.md,
so the figures the README quotes are those of the last `make bench` and `make bench-fleet` runs
(only the text between each section's markers changes).

    python tests/bench/readme_section.py            (after make bench or make bench-fleet)
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
START, END = "<!-- bench section start -->", "<!-- bench section end -->"
PLACEHOLDER = "<!-- bench section -->"
FLEET_START, FLEET_END = "<!-- fleet section start -->", "<!-- fleet section end -->"


def part(text: str, title: str) -> str:
    """The body of the `### title...` section of a results file."""
    found = re.search(rf"^### {re.escape(title)}[^\n]*\n(.*?)(?=^### |^Total run time)", text, re.S | re.M)
    return found.group(1).strip() if found else f"(not in the results file: {title})"


def section(results: str) -> str:
    machine = re.search(r"^Machine: (.*)$", results, re.M)
    missed = part(results, "Targets missed in this run")
    return f"""{START}
`make bench` measures imds against the IMDS credential providers people use otherwise — `aws-config`
(Rust, `ImdsCredentialsProvider`), botocore (Python), `@smithy/credential-provider-imds` (Node, what
AWS SDK v3 uses) — and a plain-socket C client that does the least any client must (the floor), in
one run on one loopback `imds-mock`: per fetch (median and p99 of ≥ 1,000 fetches, with a fresh
client and a cold token, and with a long-lived client refreshing with what it cached), requests and
TCP connections per fetch (from the mock's request log), whole-process time and peak memory to print
credentials once, and footprint. Ratios are the headline: imds ÷ the provider you would otherwise
use, lower is better (from [tests/bench/RESULTS.md](tests/bench/RESULTS.md), {machine.group(1).rstrip(".") if machine else "see that file"}):

{part(results, "Headline")}

Per fetch in µs, and what each fetch costs on the wire:

{part(results, "Per fetch")}

Targets of the C, Python and Node issues missed in that run (the why is in RESULTS.md's notes):

{missed}

To reproduce: `make bench`. It installs the peers into ignored local folders (botocore into `.venv`,
`@smithy/credential-provider-imds` from `bindings-node`'s lock file, `aws-config` from crates.io in the
bench-only crate `tests/bench/rust`, which has its own `[workspace]` and builds into
`tests/bench/.peers/`: 4–5 minutes the first time on 2 cores), builds everything measured in
release, then measures inside `scripts/loopback-only` (about a minute) and rewrites
`tests/bench/RESULTS.md` with the machine, the date and every contender's version;
`python3 tests/bench/readme_section.py` then refreshes this section. `BENCH_ROUNDS`, `BENCH_BLOCK`,
`BENCH_WARMUP` and `BENCH_PROCESS_RUNS` change the sample sizes; `BENCH_REALTIME=1` measures at
real-time priority (SCHED_FIFO), so that other work on a shared machine waits instead of landing in
the p99s (RESULTS.md says when a run used it). Each component also has its own
benchmark: `make bench-c`, `make bench-python`, `make bench-node`, `make bench-mock`, and
`cargo run --release -p imds-core --example bench_exchange` (the core alone, no sockets).
{END}"""


def fleet_section(fleet: str) -> str:
    machine = re.search(r"^Machine: (.*)$", fleet, re.M)
    return f"""{FLEET_START}
`make bench-fleet` measures what happens when many processes ask IMDS for credentials at once (a
host restarting its workers, a node starting pods): N processes of each contender start up, wait at
a barrier and are released together against one `imds-mock` that throttles as IMDS does (a token
bucket of 500 requests/s with a burst of 50, at most 64 connections; past them it answers 429, or
refuses connections, or accepts and drops them). From [tests/bench/FLEET.md](tests/bench/FLEET.md)
({machine.group(1).rstrip(".") if machine else "see that file"}), the 429 mode, times in ms from the
release to the end of each process:

{part(fleet, "Mode `429`")}

{part(fleet, "Summary")}

FLEET.md also has the refuse and drop modes, what the processes that failed said, each issue-15
criterion per run, and the notes (why requests per success cannot stay under 3.3 from the release
on, what the retry schedule before this one did). To reproduce: `make bench-fleet` (the installs
and builds of `make bench`, then every run inside `scripts/loopback-only`, about 15 minutes);
`FLEET_MODES`, `FLEET_CONTENDERS`, `FLEET_NATIVE_SIZES`, `FLEET_RUNTIME_SIZES`, `FLEET_RATE`,
`FLEET_BURST` and `FLEET_MAX_CONNECTIONS` narrow or change the runs.
{FLEET_END}"""


def replace_between(text: str, start: str, end: str, new: str) -> str:
    return text[: text.index(start)] + new + text[text.index(end) + len(end):]


def main() -> int:
    readme = ROOT / "README.md"
    text = readme.read_text()
    results = (ROOT / "tests" / "bench" / "RESULTS.md").read_text()
    new = section(results)
    if START in text and END in text:
        text = replace_between(text, START, END, new)
    elif PLACEHOLDER in text:
        text = text.replace(PLACEHOLDER, new, 1)
    else:
        print("readme_section: no bench markers in README.md", file=sys.stderr)
        return 1
    fleet_file = ROOT / "tests" / "bench" / "FLEET.md"
    if fleet_file.exists():
        fleet = fleet_section(fleet_file.read_text())
        if FLEET_START in text and FLEET_END in text:
            text = replace_between(text, FLEET_START, FLEET_END, fleet)
        else:
            text = text.replace(END, END + "\n\n" + fleet, 1)
    readme.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
