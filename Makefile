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

# The workspace version (Cargo.toml), which every package, library and file name is derived from;
# the ABI part of the shared library's SONAME: 0.MINOR before 1.0 (as cargo-c), then MAJOR.
IMDS_VERSION := $(shell sed -n '/^\[workspace\.package\]/,/^\[/s/^version = "\([^"]*\)"/\1/p' $(ROOT)/Cargo.toml)
IMDS_VERSION_PARTS := $(subst ., ,$(IMDS_VERSION))
IMDS_ABI := $(if $(filter 0,$(word 1,$(IMDS_VERSION_PARTS))),0.$(word 2,$(IMDS_VERSION_PARTS)),$(word 1,$(IMDS_VERSION_PARTS)))

# Runs its arguments with only loopback networking when the machine allows it (root / user namespaces).
NETNS := $(ROOT)/scripts/loopback-only

.PHONY: help deps test test-offline demo bench clean

help:
	@echo "make demo   build, start the mock IMDS on loopback, fetch credentials with every imds command"
	@echo "make test   install what is needed, then run every check inside a loopback-only network namespace"
	@echo "make bench  imds against the AWS SDKs' own providers, side by side"
	@echo "make bench-fleet  many processes at once against a throttled mock IMDS (tests/bench/FLEET.md)"
	@echo "make dist   the release artifacts (wheels, sdist, npm packages, C tarballs) for x86_64 and arm64 Linux into dist/"
	@echo "make test-arm64  every conformance scenario for arm64 Python and Node under qemu (slow)"

include mk/*.mk

# Every component appends its install step to DEPS and its checks to TESTS (see mk/*.mk).
deps: $(DEPS)

test: deps
	$(NETNS) $(MAKE) --no-print-directory test-offline

test-offline: $(TESTS)
	@echo "make test: all checks passed"

clean:
	$(CARGO) clean
	rm -rf .venv .venv-aiobotocore build dist bindings-node/node_modules
