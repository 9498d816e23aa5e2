# imds — top-level build. `make demo` runs the main job, `make test` runs every check.
#
# Each component keeps its rules in mk/<component>.mk. `make test` first installs what it needs
# (rustup targets, cargo fetch, a Python venv, npm packages), then runs every test program inside a
# network namespace that has only loopback, so nothing can leave this machine.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

ROOT := $(CURDIR)
CARGO ?= cargo
export CARGO_TERM_COLOR ?= never

# Runs its arguments with only loopback networking when the machine allows it (root / user namespaces).
NETNS := $(ROOT)/scripts/loopback-only

.PHONY: help deps test test-offline demo bench clean

help:
	@echo "make demo   build, start the mock IMDS on loopback, fetch credentials with every imds command"
	@echo "make test   install what is needed, then run every check inside a loopback-only network namespace"
	@echo "make bench  imds against the AWS SDKs' own providers, side by side"
	@echo "make bench-fleet  many processes at once against a throttled mock IMDS (tests/bench/FLEET.md)"

include mk/*.mk

# Every component appends its install step to DEPS and its checks to TESTS (see mk/*.mk).
deps: $(DEPS)

test: deps
	$(NETNS) $(MAKE) --no-print-directory test-offline

test-offline: $(TESTS)
	@echo "make test: all checks passed"

clean:
	$(CARGO) clean
	rm -rf .venv .venv-aiobotocore build bindings-node/node_modules
