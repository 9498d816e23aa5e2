"""Rewrites the README's benchmark section from tests/bench/RESULTS.md, so the figures the README
quotes are those of the last `make bench` run (only the text between the bench markers changes).

    python tests/bench/readme_section.py            (after make bench)
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
START, END = "<!-- bench section start -->", "<!-- bench section end -->"
PLACEHOLDER = "<!-- bench section -->"


def section(results: str) -> str:
    def part(title: str) -> str:
        found = re.search(rf"^### {re.escape(title)}[^\n]*\n(.*?)(?=^### |^Total run time)", results, re.S | re.M)
        return found.group(1).strip() if found else "(not in RESULTS.md)"

    machine = re.search(r"^Machine: (.*)$", results, re.M)
    missed = part("Targets missed in this run")
    return f"""{START}
`make bench` measures imds against the IMDS credential providers people use otherwise — `aws-config`
(Rust, `ImdsCredentialsProvider`), botocore (Python), `@smithy/credential-provider-imds` (Node, what
AWS SDK v3 uses) — and a plain-socket C client that does the least any client must (the floor), in
one run on one loopback `imds-mock`: per fetch (median and p99 of ≥ 1,000 fetches, with a fresh
client and a cold token, and with a long-lived client refreshing with what it cached), requests and
TCP connections per fetch (from the mock's request log), whole-process time and peak memory to print
credentials once, and footprint. Ratios are the headline: imds ÷ the provider you would otherwise
use, lower is better (from [tests/bench/RESULTS.md](tests/bench/RESULTS.md), {machine.group(1).rstrip(".") if machine else "see that file"}):

{part("Headline")}

Per fetch in µs, and what each fetch costs on the wire:

{part("Per fetch")}

Targets of the C, Python and Node issues missed in that run (the why is in RESULTS.md's notes):

{missed}

To reproduce: `make bench`. It installs the peers into ignored local folders (botocore into `.venv`,
`@smithy/credential-provider-imds` from `bindings-node`'s lock file, `aws-config` from crates.io in the
bench-only crate `tests/bench/rust`, which has its own `[workspace]` and builds into
`tests/bench/.peers/`: 4–5 minutes the first time on 2 cores), builds everything measured in
release, then measures inside `scripts/loopback-only` (about 30 s) and rewrites
`tests/bench/RESULTS.md` with the machine, the date and every contender's version;
`python3 tests/bench/readme_section.py` then refreshes this section. `BENCH_ROUNDS`, `BENCH_BLOCK`,
`BENCH_WARMUP` and `BENCH_PROCESS_RUNS` change the sample sizes. Each component also has its own
benchmark: `make bench-c`, `make bench-python`, `make bench-node`, `make bench-mock`, and
`cargo run --release -p imds-core --example bench_exchange` (the core alone, no sockets).
{END}"""


def main() -> int:
    readme = ROOT / "README.md"
    text = readme.read_text()
    results = (ROOT / "tests" / "bench" / "RESULTS.md").read_text()
    new = section(results)
    if START in text and END in text:
        text = text[: text.index(START)] + new + text[text.index(END) + len(END):]
    elif PLACEHOLDER in text:
        text = text.replace(PLACEHOLDER, new, 1)
    else:
        print("readme_section: no bench markers in README.md", file=sys.stderr)
        return 1
    readme.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
