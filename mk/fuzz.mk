# Fuzzing, kept out of `make test` (it needs cargo-fuzz and minutes of CPU).
#   make check-extra                          every cargo-fuzz target in core/fuzz, FUZZ_SECONDS each
#   make fuzz FUZZ_TARGET=config_file FUZZ_SECONDS=300   one target, longer
# Targets run on the stable toolchain with RUSTC_BOOTSTRAP=1 (cargo-fuzz needs -Z flags); new
# inputs go to core/fuzz/corpus/<target> (ignored by git), seeds come from core/fuzz/seeds/<target>,
# the dictionary from core/fuzz/<target>.dict (or <prefix>.dict, e.g. http.dict for http_response).

FUZZ_DIR := $(ROOT)/core/fuzz
FUZZ_SECONDS ?= 20
FUZZ_TARGET ?= config_file
FUZZ_TARGETS = $(sort $(basename $(notdir $(wildcard $(FUZZ_DIR)/fuzz_targets/*.rs))))

.PHONY: check-extra fuzz-smoke fuzz fuzz-deps

check-extra: fuzz-smoke

fuzz-deps:
	@command -v cargo-fuzz >/dev/null || $(CARGO) install cargo-fuzz --locked

# Runs one target ($1) for $2 seconds; prints libFuzzer's summary, or the log's end on a crash.
define run_fuzz_target
	cd $(FUZZ_DIR) && target=$(1) && mkdir -p corpus/$$target artifacts && \
	seeds= && { [ ! -d seeds/$$target ] || seeds=seeds/$$target; } && \
	dict= && for d in $$target.dict $${target%%_*}.dict; do \
	  if [ -f $$d ]; then dict=-dict=$$d; break; fi; done && \
	echo "fuzz $$target for $(2) s" && \
	if ! RUSTC_BOOTSTRAP=1 $(CARGO) fuzz run $$target corpus/$$target $$seeds -- \
	    $$dict -max_total_time=$(2) -print_final_stats=1 > $(FUZZ_DIR)/artifacts/fuzz-$$target.log 2>&1; then \
	  tail -n 60 $(FUZZ_DIR)/artifacts/fuzz-$$target.log; exit 1; \
	fi && grep -E '^(Done|stat::number_of_executed_units|stat::peak_rss_mb)' $(FUZZ_DIR)/artifacts/fuzz-$$target.log
endef

fuzz-smoke: fuzz-deps
	@$(foreach t,$(FUZZ_TARGETS),$(call run_fuzz_target,$(t),$(FUZZ_SECONDS)) && ) true

fuzz: fuzz-deps
	@$(call run_fuzz_target,$(FUZZ_TARGET),$(FUZZ_SECONDS))
