# Fuzzing and Miri, kept out of `make test` (they need cargo-fuzz, a nightly toolchain and minutes
# of CPU). scripts/fuzz does the work and keeps the record in FUZZING.md.
#   make check-extra                          Miri, then every fuzz target FUZZ_SECONDS each
#   make fuzz FUZZ_TARGET=split_stream FUZZ_SECONDS=300   one target, longer
#   make fuzz-rate                            each target for 60 s: executions per second
#   make fuzz-long [FUZZ_TARGETS=...] [FUZZ_RUNS=10000000] [FUZZ_JOBS=1] [FUZZ_SANITIZER=none]
#                                             each target until FUZZ_RUNS executions, its corpus
#                                             minimised into core/fuzz/seeds/<target>, a row in
#                                             FUZZING.md (commit the seeds and FUZZING.md after)
#   make miri                                 the ffi-c tests that call the exports and the core's
#                                             unit tests, under Miri
# Inputs found go to core/fuzz/corpus/<target> (ignored by git), logs and crashing inputs to
# core/fuzz/artifacts/<target>.

FUZZ_SECONDS ?= 20
FUZZ_TARGET ?= split_stream
FUZZ_TARGETS ?=
FUZZ_RUNS ?= 10000000
FUZZ_JOBS ?= 1
# Empty: scripts/fuzz's default (AddressSanitizer for fuzz and check-extra, none for the rest).
FUZZ_SANITIZER ?=
FUZZ := $(ROOT)/scripts/fuzz
FUZZ_WITH = $(if $(FUZZ_SANITIZER),--sanitizer $(FUZZ_SANITIZER))

.PHONY: check-extra fuzz-deps fuzz-smoke fuzz fuzz-rate fuzz-long miri-deps miri

check-extra: miri fuzz-smoke

fuzz-deps:
	@command -v cargo-fuzz >/dev/null || $(CARGO) install cargo-fuzz --locked

fuzz-smoke: fuzz-deps
	$(FUZZ) smoke $(FUZZ_WITH) --seconds $(FUZZ_SECONDS) $(FUZZ_TARGETS)

fuzz: fuzz-deps
	$(FUZZ) run $(FUZZ_WITH) --seconds $(FUZZ_SECONDS) $(FUZZ_TARGET)

fuzz-rate: fuzz-deps
	$(FUZZ) rate $(FUZZ_WITH) --seconds 60 $(FUZZ_TARGETS)

fuzz-long: fuzz-deps
	$(FUZZ) long $(FUZZ_WITH) --runs $(FUZZ_RUNS) --jobs $(FUZZ_JOBS) $(FUZZ_TARGETS)

miri-deps:
	rustup component add miri rust-src --toolchain nightly

# Miri checks every pointer the exports read or write (Stacked Borrows, uninitialised memory,
# leaks). Tests that read files, the clock or the network are skipped under cfg(miri). The core's
# unit tests follow (about 2 minutes); they read test vectors from the checkout, so isolation is
# off for them.
miri: miri-deps
	$(CARGO) +nightly miri test -p imds-ffi
	MIRIFLAGS=-Zmiri-disable-isolation $(CARGO) +nightly miri test -p imds-core --lib
