# Test kit (tests/, package imds-testkit): the loopback mock IMDS (`imds-mock`), the conformance
# suite run against every `imds` command present, the mock's own tests, and `make demo`.
#
# Other components add their `imds` command lines and what must be built first:
#   CONFORMANCE_IMPLS += c=$(ROOT)/build/c/imds        CONFORMANCE_DEPS += build-c
#   DEMO_IMPLS += c=$(ROOT)/build/c/imds               DEMO_DEPS += build-c
# A word `NAME=...` starts an implementation; the words after it are its arguments. The lists are
# read when the rules run, so mk files included after this one may still append to them.
TESTS += test-testkit

TESTKIT_TARGET := $(or $(CARGO_TARGET_DIR),$(ROOT)/target)
TESTKIT_BIN := $(TESTKIT_TARGET)/debug
CONFORMANCE_IMPLS += rust=$(TESTKIT_BIN)/imds
DEMO_IMPLS += rust=$(TESTKIT_BIN)/imds

.PHONY: build-testkit test-testkit test-mock test-conformance demo bench-mock
.SECONDEXPANSION:

build-testkit:
	$(CARGO) build --locked --offline --quiet -p imds-testkit --bins

# The mock's own tests (raw TCP clients against each scripted behaviour).
test-mock:
	$(CARGO) test --locked --offline -p imds-testkit --test mock_protocol --test mock_scripted --test mock_binary --test mock_throttle

# Every scenario against every implementation; fails on any difference.
test-conformance: build-testkit $$(CONFORMANCE_DEPS)
	$(TESTKIT_BIN)/imds-conformance --impl-list "$(CONFORMANCE_IMPLS)"

test-testkit: test-mock test-conformance

# Builds what is needed (installs first, as `make test` does), starts the mock on loopback, runs
# every `imds` command that was built, stops the mock. A component whose build fails is reported
# and left out; the Rust command always runs.
demo:
	@mkdir -p $(TESTKIT_TARGET)
	@echo "demo: installing what the build needs (make deps; log in $(TESTKIT_TARGET)/demo-deps.log)"
	@$(MAKE) --no-print-directory -k deps >$(TESTKIT_TARGET)/demo-deps.log 2>&1 \
		|| echo "demo: part of \`make deps\` failed (see $(TESTKIT_TARGET)/demo-deps.log); what it was for is left out"
	@echo "demo: building the mock and the Rust imds command"
	@$(MAKE) --no-print-directory build-testkit
	@for dep in $(DEMO_DEPS); do \
		echo "demo: make $$dep"; \
		$(MAKE) --no-print-directory $$dep >$(TESTKIT_TARGET)/demo-$$dep.log 2>&1 \
		|| echo "demo: \`make $$dep\` failed (see $(TESTKIT_TARGET)/demo-$$dep.log); its imds command is left out"; \
	done
	@$(ROOT)/scripts/demo $(TESTKIT_BIN)/imds-mock "$(DEMO_IMPLS)"

# Server CPU per three-request exchange (a program that prints figures, not a test).
bench-mock:
	$(CARGO) build --locked --offline --quiet --release -p imds-testkit --bins
	$(TESTKIT_TARGET)/release/imds-mock-bench $(TESTKIT_TARGET)/release/imds-mock
