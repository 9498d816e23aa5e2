# `make bench`: imds against the AWS SDKs' own IMDS credential providers (aws-config, botocore,
# @smithy/credential-provider-imds) and a plain-socket floor, side by side on one loopback mock.
# Not part of `make test`; it prints a table and writes tests/bench/RESULTS.md.
#
# Outside the network namespace: `make deps` (botocore comes with the Python dev requirements,
# @smithy/credential-provider-imds with bindings-node's package-lock), GNU time, the bench-only
# crate tests/bench/rust (aws-config from crates.io, own [workspace] and Cargo.lock, built in
# release into tests/bench/.peers/), and every imds build measured. Then the measurements run
# inside scripts/loopback-only, and the README's bench section is refreshed from RESULTS.md.
# `make test` runs only `test-bench`, a tiny offline self-check of both harnesses.
#
# `make bench-fleet`: N processes of each contender (the C and Node `imds` commands, `python -m
# imds`, botocore, @smithy, aws-config) released together from a barrier against one throttled
# mock, in each throttle mode; writes tests/bench/FLEET.md and the README's fleet section
# (tests/bench/fleet.py says how the barrier holds each program). Same installs and builds as
# `make bench`, plus the C command's barrier launcher (tests/bench/fleet/fleet_c.c).
TESTS += test-bench

BENCH_DIR := $(ROOT)/tests/bench
BENCH_OUT := $(BENCH_DIR)/out
BENCH_PEERS := $(BENCH_DIR)/.peers
BENCH_RUST_TARGET := $(BENCH_PEERS)/rust-target
BENCH_CARGO_TARGET := $(or $(CARGO_TARGET_DIR),$(ROOT)/target)
BENCH_PYTHON := $(ROOT)/.venv/bin/python
BENCH_BOTOCORE := botocore==1.44.8

.PHONY: bench bench-deps bench-build bench-testkit bench-rust-peers bench-runner-c bench-config \
	bench-measure test-bench bench-fleet bench-fleet-build bench-fleet-c bench-fleet-measure

# A step that fails does not stop the run: what it was for is shown as failed in the table.
bench:
	@start=$$(date +%s); \
	$(MAKE) --no-print-directory deps bench-deps || echo "make bench: an install step failed; see above"; \
	$(MAKE) --no-print-directory -k bench-build || echo "make bench: a build step failed; its contender is shown as failed"; \
	$(MAKE) --no-print-directory bench-config && \
	$(NETNS) $(MAKE) --no-print-directory bench-measure && \
	echo "make bench: done in $$(( $$(date +%s) - start )) s (installs and builds included)"

bench-fleet:
	@start=$$(date +%s); \
	$(MAKE) --no-print-directory deps bench-deps || echo "make bench-fleet: an install step failed; see above"; \
	$(MAKE) --no-print-directory -k bench-fleet-build || echo "make bench-fleet: a build step failed; its contender is shown as failed"; \
	$(MAKE) --no-print-directory bench-config && \
	$(NETNS) $(MAKE) --no-print-directory bench-fleet-measure && \
	echo "make bench-fleet: done in $$(( $$(date +%s) - start )) s (installs and builds included)"

# The peers, into local ignored folders (.venv, bindings-node/node_modules, tests/bench/.peers).
bench-deps:
	@test -x /usr/bin/time || { echo "bench-deps: installing GNU time"; apt-get install -y time; }
	$(BENCH_PYTHON) -m pip install --quiet --disable-pip-version-check $(BENCH_BOTOCORE)
	@test -f $(ROOT)/bindings-node/node_modules/@smithy/credential-provider-imds/package.json \
		|| { echo "bench-deps: @smithy/credential-provider-imds missing after npm ci"; exit 1; }
	cd $(BENCH_DIR)/rust && CARGO_TARGET_DIR=$(BENCH_RUST_TARGET) $(CARGO) fetch --locked

# Everything measured, in release.
bench-build: bench-testkit bench-rust-peers bench-runner-c install-python build-node

bench-testkit:
	$(CARGO) build --locked --offline --quiet --release -p imds-testkit --bins

# imds's BlockingClient and aws-config behind the runner protocol; the cold build takes a few
# minutes (once).
bench-rust-peers:
	cd $(BENCH_DIR)/rust && CARGO_TARGET_DIR=$(BENCH_RUST_TARGET) $(CARGO) build --locked --offline --release

bench-fleet-build: bench-testkit bench-rust-peers bench-fleet-c install-python build-node

# The C `imds` command (ffi-c/c/imds.c, its main renamed) behind the fleet barrier, built as
# build-c-release builds the command.
bench-fleet-c: build-c-release
	@mkdir -p $(BENCH_OUT)
	$(C_CC) -std=c11 $(C_WARN) -O2 $(C_INCLUDES) -o $(BENCH_OUT)/fleet_c $(BENCH_DIR)/fleet/fleet_c.c \
		$(C_SRC)/driver.c -L$(C_RELEASE_LIB) $(C_LIBS) -Wl,--gc-sections

bench-runner-c: build-c-release
	@mkdir -p $(BENCH_OUT)
	$(C_CC) -std=c11 -O2 -Wall -Wextra -Wno-unused-function $(C_INCLUDES) -o $(BENCH_OUT)/runner_c \
		$(BENCH_DIR)/runners/runner_c.c $(C_SRC)/driver.c -L$(C_RELEASE_LIB) $(C_LIBS) -Wl,--gc-sections

# Where everything measured is (a missing one is reported by the harness as failed).
bench-config:
	@mkdir -p $(BENCH_OUT)
	@printf '%s\n' '{' \
		'"mock": "$(BENCH_CARGO_TARGET)/release/imds-mock",' \
		'"imds_rust": "$(BENCH_CARGO_TARGET)/release/imds",' \
		'"imds_c": "$(C_BUILD)/release/imds",' \
		'"runner_c": "$(BENCH_OUT)/runner_c",' \
		'"fleet_c": "$(BENCH_OUT)/fleet_c",' \
		'"rust_peers": "$(BENCH_RUST_TARGET)/release",' \
		'"aws_config_credentials": "$(BENCH_RUST_TARGET)/release/aws-config-credentials",' \
		'"bench_lock": "$(BENCH_DIR)/rust/Cargo.lock",' \
		'"python": "$(BENCH_PYTHON)",' \
		'"python_site_imds": "'"$$($(BENCH_PYTHON) -c 'import imds, os; print(os.path.dirname(imds.__file__))' 2>/dev/null)"'",' \
		'"wheel": "'"$$(ls $(PY_WHEELS)/imds_credentials-*.whl 2>/dev/null | head -n 1)"'",' \
		'"node": "$(NODE)",' \
		'"node_package": "$(NODE_DIR)",' \
		'"node_addon": "$(NODE_DIR)/imds.linux-x64-gnu.node",' \
		'"libimds_so": "$(C_RELEASE_LIB)/libimds.so",' \
		'"header": "$(ROOT)/include/imds.h"' \
		'}' > $(BENCH_OUT)/config.json

bench-measure:
	$(BENCH_PYTHON) $(BENCH_DIR)/bench.py --config $(BENCH_OUT)/config.json \
		--out $(BENCH_DIR)/RESULTS.md --json-out $(BENCH_OUT)/results.json
	python3 $(BENCH_DIR)/readme_section.py

bench-fleet-measure:
	$(BENCH_PYTHON) $(BENCH_DIR)/fleet.py --config $(BENCH_OUT)/config.json \
		--out $(BENCH_DIR)/FLEET.md --json-out $(BENCH_OUT)/fleet.json
	python3 $(BENCH_DIR)/readme_section.py

# The harnesses' own checks (offline, a few seconds): counting requests and connections from the
# mock's log, the p99, and a logged run of the Rust imds command; a fleet of 4 Rust imds commands
# released together against a throttled mock, and fleets that hang or crash, stopped and counted.
test-bench: build-testkit
	python3 $(BENCH_DIR)/bench.py --self-check --mock $(BENCH_CARGO_TARGET)/debug/imds-mock \
		--imds $(BENCH_CARGO_TARGET)/debug/imds
	python3 $(BENCH_DIR)/fleet.py --self-check --mock $(BENCH_CARGO_TARGET)/debug/imds-mock \
		--imds $(BENCH_CARGO_TARGET)/debug/imds
