# Rust workspace checks: fmt, clippy, tests, docs, and the no_std / no-alloc build of imds-core.
DEPS += deps-rust
TESTS += test-rust

NO_STD_TARGET := thumbv7em-none-eabihf

.PHONY: deps-rust test-rust

deps-rust:
	@command -v $(CARGO) >/dev/null || { echo "installing rustup"; curl -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal; }
	rustup component add rustfmt clippy >/dev/null 2>&1 || true
	rustup target add $(NO_STD_TARGET)
	$(CARGO) fetch --locked

test-rust:
	$(CARGO) fmt --all --check
	$(CARGO) clippy --locked --offline --workspace --all-targets -- -D warnings
	$(CARGO) test --locked --offline --workspace
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc --locked --offline --workspace --no-deps
	$(CARGO) build --locked --offline -p imds-core --target $(NO_STD_TARGET)

# No import cycle among the modules of imds-core (the script's self-test first: it must catch one).
TESTS += test-core-cycles

.PHONY: test-core-cycles

test-core-cycles:
	python3 $(ROOT)/scripts/check-core-cycles --self-test
	python3 $(ROOT)/scripts/check-core-cycles
