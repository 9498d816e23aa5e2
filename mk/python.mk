# Python package `imds` (bindings-python/): a venv at .venv, the abi3 wheel built by maturin, pytest,
# mypy (package and stubtest against the compiled module), and `python -m imds` for the conformance
# suite and the demo. The aiobotocore integration is tested in a second venv, .venv-aiobotocore:
# aiobotocore pins botocore to a narrow range that excludes the main venv's botocore.
DEPS += deps-python
TESTS += test-python

VENV := $(ROOT)/.venv
PY := $(VENV)/bin/python
AIO_VENV := $(ROOT)/.venv-aiobotocore
AIO_PY := $(AIO_VENV)/bin/python
PY_DIR := $(ROOT)/bindings-python
PY_WHEELS := $(ROOT)/build/wheels
# Where cargo puts the mock server the tests start (the shared target dir unless overridden).
PY_CARGO_TARGET := $(or $(CARGO_TARGET_DIR),$(ROOT)/target)

CONFORMANCE_IMPLS += python=$(PY) -m imds
# The `imds` console script the wheel installs ([project.scripts]): the same function as `-m imds`.
CONFORMANCE_IMPLS += python_script=$(VENV)/bin/imds
DEMO_IMPLS += python=$(PY) -m imds
CONFORMANCE_DEPS += install-python
DEMO_DEPS += install-python

.PHONY: deps-python install-python test-python bench-python

deps-python:
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r $(PY_DIR)/requirements-dev.txt
	test -x $(AIO_PY) || python3 -m venv $(AIO_VENV)
	$(AIO_PY) -m pip install --quiet --disable-pip-version-check -r $(PY_DIR)/requirements-aiobotocore.txt

# Builds the wheel offline (cargo fetch ran in deps-rust) and installs it into the venv.
install-python:
	rm -f $(PY_WHEELS)/imds_credentials-*.whl
	cd $(PY_DIR) && CARGO_NET_OFFLINE=true $(VENV)/bin/maturin build --release --locked \
		--interpreter $(PY) --out $(PY_WHEELS) --quiet
	$(PY) -m pip install --quiet --disable-pip-version-check --no-index --no-deps \
		--force-reinstall $(PY_WHEELS)/imds_credentials-*.whl

# The mock and the Rust `imds` command (python -m imds is compared with it byte for byte).
test-python: install-python
	CARGO_NET_OFFLINE=true $(CARGO) build --locked --offline --quiet -p imds-testkit --bins
	cd $(PY_DIR) && IMDS_MOCK=$(PY_CARGO_TARGET)/debug/imds-mock IMDS_RUST_CLI=$(PY_CARGO_TARGET)/debug/imds \
		IMDS_REPO_ROOT=$(ROOT) \
		$(PY) -m pytest -q -p no:cacheprovider tests
	$(AIO_PY) -m pip install --quiet --disable-pip-version-check --no-index --no-deps \
		--force-reinstall $(PY_WHEELS)/imds_credentials-*.whl
	cd $(PY_DIR) && IMDS_MOCK=$(PY_CARGO_TARGET)/debug/imds-mock IMDS_REQUIRE_AIOBOTOCORE=1 \
		$(AIO_PY) -m pytest -q -p no:cacheprovider tests/test_aiobotocore.py
	cd $(PY_DIR) && $(PY) -m mypy.stubtest imds._imds --allowlist stubtest-allowlist.txt
	cd $(PY_DIR) && $(PY) -m mypy --strict --no-incremental python/imds

# Per-fetch and per-process figures next to botocore's (a program that prints figures, not a test).
bench-python: install-python
	CARGO_NET_OFFLINE=true $(CARGO) build --locked --offline --release --quiet -p imds-testkit --bin imds-mock
	IMDS_MOCK=$(PY_CARGO_TARGET)/release/imds-mock $(PY) $(PY_DIR)/bench/bench.py
