# Release artifacts. `make dist` builds into dist/ everything a user installs, for x86_64 and
# aarch64 Linux, glibc (2.17 and later) and musl, with SHA256SUMS. VERSION is the workspace version
# (Cargo.toml), ABI the SONAME's part (IMDS_VERSION, IMDS_ABI in the Makefile):
#
#   imds_credentials-VERSION-cp39-abi3-manylinux2014_{x86_64,aarch64}.manylinux_2_17_*.whl   PyPI
#   imds_credentials-VERSION-cp39-abi3-musllinux_1_2_{x86_64,aarch64}.whl
#   imds_credentials-VERSION.tar.gz                                  the sdist (crates vendored)
#   imds-VERSION.tgz, imds-linux-{x64,arm64}-{gnu,musl}-VERSION.tgz  npm: main + platform packages
#   imds-VERSION-{x86_64,aarch64}-linux-{gnu,musl}.tar.gz            C (packaging/c-tarball)
#
# One cargo-zigbuild run builds libimds and the Node addon for the four targets into the shared
# target dir (profile `dist`); maturin --zig builds the wheels in target/dist-wheels (see
# dist-wheels). zig links the gnu targets against glibc 2.17's
# symbols, and is the C compiler of the static bin/imds. packaging/check-artifacts then checks every
# file (CPU, GLIBC_2.17 at most, musl libc only, SONAME and links, static bin/imds, wheel tags by
# auditwheel) and prints its size.
#
# `make test` runs test-dist on what `make dist` built, inside the loopback-only namespace (the
# arm64 Debian root, Debian's musl and the Python test wheels are fetched by deps-dist before it):
#   x86_64  the manylinux wheel in a fresh venv with no Rust on PATH: the Python tests, and the
#           conformance suite through `python -m imds`; a wheel pip builds from the sdist with no
#           network and an empty CARGO_HOME: the conformance suite; `npm install imds` from a
#           registry on loopback (packaging/npm-registry) into a fresh project, no Rust on PATH:
#           the conformance suite through its `imds` bin, and the loader's error without the
#           platform package; the static bin/imds: the conformance suite.
#   arm64   under qemu-aarch64 (called explicitly: no binfmt_misc): the static bin/imds, every
#           scenario; Debian's arm64 Python with the manylinux2014 wheel and arm64 Node with the gnu
#           package: the scenarios named in packaging/arm64-scenarios.txt, one or more of every
#           behaviour family (emulated Node and Python start slowly). `make test-arm64` runs every
#           scenario for them.
#   C       the README's C example built from each tarball with pkg-config, once shared (imds) and
#           once static (imds-static), fetching credentials from imds-mock: gcc for x86_64 gnu, zig
#           for the others, arm64 programs under qemu, musl shared ones under musl's own loader.
#   musl    auditwheel (check-artifacts); every musl shared object loads under musl's loader with
#           only the host's symbols (Py*, napi_*) left to resolve; the static musl bin/imds of both
#           CPUs is the one the conformance suite ran.
DEPS += deps-dist
TESTS += test-dist

DIST := $(ROOT)/dist
DIST_BUILD := $(ROOT)/build/dist
DIST_TRY := $(ROOT)/build/dist-try
DIST_TOOLS := $(ROOT)/build/dist-tools
DIST_CARGO_TARGET := $(or $(CARGO_TARGET_DIR),$(ROOT)/target)
DIST_PROFILE := dist
DIST_WHEEL_TARGET := $(DIST_CARGO_TARGET)/dist-wheels
# The tools venv first: zig (ziglang), cargo-zigbuild, maturin, auditwheel.
DIST_PATH := $(DIST_TOOLS)/bin:$(PATH)
DIST_ZIG := $(DIST_TOOLS)/bin/python -m ziglang
DIST_PY_NAME := imds_credentials
DIST_PLATFORMS := x86_64-linux-gnu aarch64-linux-gnu x86_64-linux-musl aarch64-linux-musl

# x86_64-linux-gnu -> x86_64-unknown-linux-gnu (Rust), .2.17 added for cargo-zigbuild on glibc,
# linux-x64-gnu (npm), manylinux2014 / musllinux_1_2 (wheels).
dist_triple = $(subst -linux-,-unknown-linux-,$(1))
dist_zig_target = $(call dist_triple,$(1))$(if $(filter %-gnu,$(1)),.2.17)
dist_node = linux-$(if $(filter x86_64-%,$(1)),x64,arm64)-$(lastword $(subst -, ,$(1)))
dist_wheel_tag = $(if $(filter %-gnu,$(1)),manylinux2014,musllinux_1_2)
dist_lib = $(DIST_CARGO_TARGET)/$(call dist_triple,$(1))/$(DIST_PROFILE)
# On musl, Rust links statically against libc unless told not to; shared objects must use the
# process's libc. zig provides the unwinder itself, so no libgcc_s is needed either.
DIST_MUSL_FLAGS := -C target-feature=-crt-static
DIST_CARGO_ENV := CARGO_TARGET_X86_64_UNKNOWN_LINUX_MUSL_RUSTFLAGS="$(DIST_MUSL_FLAGS)" \
	CARGO_TARGET_AARCH64_UNKNOWN_LINUX_MUSL_RUSTFLAGS="$(DIST_MUSL_FLAGS)" CARGO_NET_OFFLINE=true

# Debian's arm64 Python and Node, run under qemu-user (trixie: Python 3.13, Node 20), and Debian's
# musl of both CPUs.
DEBIAN_SUITE := trixie
DEBIAN_MIRROR := http://deb.debian.org/debian
ARM64_ROOT := $(ROOT)/build/arm64-root
DIST_SYSROOTS := $(ROOT)/build/sysroots
QEMU_AARCH64 = $(shell command -v qemu-aarch64)
# The standard modules `python -m imds` imports, byte-compiled once (compileall writes the caches
# even where PYTHONDONTWRITEBYTECODE is set).
ARM64_PY_WARM := runpy, logging, threading, re, traceback, textwrap, tokenize, string, weakref, json, socket, selectors
# The Python test dependencies, as wheels, for the fresh venv that runs the tests offline.
DIST_WHEELHOUSE := $(ROOT)/build/wheelhouse

.PHONY: dist deps-dist deps-dist-build deps-dist-test dist-libs dist-wheels dist-sdist dist-c dist-node \
	dist-sums dist-check test-dist test-dist-c test-dist-python test-dist-node test-dist-conformance \
	test-dist-arm64-install test-arm64 test-arm64-offline

# ---------------------------------------------------------------------------------------------
# Tools. Each step installs what is missing, or stops saying what is missing and how to get it.

deps-dist: deps-dist-build deps-dist-test

# What `make dist` needs: Rust's targets, zig / cargo-zigbuild / maturin / auditwheel (PyPI, pinned
# in packaging/requirements-dist.txt, into build/dist-tools), node and npm, binutils for aarch64
# (strip and objdump -T of arm64 files), and Debian's musl package of both CPUs in build/sysroots
# (its libc.so, which auditwheel checks the musllinux wheels against; its loader runs musl programs).
deps-dist-build:
	@for tool in cargo rustup python3 node npm readelf objdump; do \
		command -v $$tool >/dev/null || { echo "deps-dist: $$tool is missing: install it (rustup: https://rustup.rs; Debian: apt-get install python3-venv nodejs npm binutils)"; exit 1; }; done
	@for target in $(foreach p,$(DIST_PLATFORMS),$(call dist_triple,$(p))); do \
		rustup target list --installed | grep -qx $$target || rustup target add $$target \
		|| { echo "deps-dist: Rust's $$target target is missing and \`rustup target add $$target\` failed"; exit 1; }; done
	@$(call dist_apt,aarch64-linux-gnu-objdump,binutils-aarch64-linux-gnu)
	@$(call dist_apt,mmdebstrap,mmdebstrap)
	@for cpu in x86_64 aarch64; do \
		root=$(DIST_SYSROOTS)/musl-$$cpu; arch=$$([ $$cpu = x86_64 ] && echo amd64 || echo arm64); \
		[ -f $$root/usr/lib/$$cpu-linux-musl/libc.so ] || { rm -rf $$root && mkdir -p $(DIST_SYSROOTS) && \
			mmdebstrap --quiet --arch=$$arch --variant=extract --include=musl $(DEBIAN_SUITE) $$root $(DEBIAN_MIRROR) \
			|| { echo "deps-dist: mmdebstrap could not fetch Debian's musl for $$arch from $(DEBIAN_MIRROR)"; exit 1; }; }; done
	@if ! cmp -s $(ROOT)/packaging/requirements-dist.txt $(DIST_TOOLS)/requirements-dist.txt; then \
		echo "deps-dist: installing zig, cargo-zigbuild, maturin and auditwheel into $(DIST_TOOLS)"; \
		rm -rf $(DIST_TOOLS) && python3 -m venv $(DIST_TOOLS) \
		&& $(DIST_TOOLS)/bin/pip install --quiet --disable-pip-version-check -r $(ROOT)/packaging/requirements-dist.txt \
		&& cp $(ROOT)/packaging/requirements-dist.txt $(DIST_TOOLS)/requirements-dist.txt \
		|| { echo "deps-dist: could not install packaging/requirements-dist.txt from PyPI into $(DIST_TOOLS) (python3 -m venv needs python3-venv)"; exit 1; }; \
	fi

# What test-dist needs besides: qemu-user (arm64 programs, called explicitly: no binfmt_misc),
# mmdebstrap and an arm64 Debian root with python3 and nodejs, and the Python test dependencies as
# wheels. Fetched here, before the loopback-only namespace.
deps-dist-test: deps-dist-build deps-python
	@$(call dist_apt,qemu-aarch64,qemu-user)
	@$(call dist_apt,pkg-config,pkg-config)
	@if [ "$$(cat $(ARM64_ROOT)/.complete 2>/dev/null)" != "$(DEBIAN_SUITE) python3 nodejs" ]; then \
		echo "deps-dist: arm64 Debian $(DEBIAN_SUITE) root with python3 and nodejs into $(ARM64_ROOT)"; \
		rm -rf $(ARM64_ROOT) && mmdebstrap --quiet --arch=arm64 --variant=extract --include=python3,nodejs \
			$(DEBIAN_SUITE) $(ARM64_ROOT) $(DEBIAN_MIRROR) \
		&& ln -s usr/lib $(ARM64_ROOT)/lib && ln -s usr/bin $(ARM64_ROOT)/bin \
		&& echo "deps-dist: byte-compiling what \`python -m imds\` imports from its Python's library (emulated, once)" \
		&& $(ARM64_RUN) $(ARM64_ROOT)/usr/bin/python3 -c "import sys, $(ARM64_PY_WARM); \
			print('\n'.join(m.__file__ for m in list(sys.modules.values()) if (getattr(m, '__file__', '') or '').endswith('.py')))" \
			| $(ARM64_RUN) $(ARM64_ROOT)/usr/bin/python3 -m compileall -q -i - \
		&& echo "$(DEBIAN_SUITE) python3 nodejs" > $(ARM64_ROOT)/.complete \
		|| { echo "deps-dist: mmdebstrap could not fetch the arm64 root from $(DEBIAN_MIRROR)"; exit 1; }; \
	fi
	$(PY) -m pip download --quiet --disable-pip-version-check --dest $(DIST_WHEELHOUSE) \
		-r $(PY_DIR)/requirements-dev.txt

# $(call dist_apt,COMMAND,DEBIAN_PACKAGE): installs the package when the command is missing.
define dist_apt
command -v $(1) >/dev/null || { \
	echo "deps-dist: $(1) is missing: apt-get install $(2)"; \
	{ command -v apt-get >/dev/null && { apt-get install -y -qq $(2) >/dev/null 2>&1 \
		|| { apt-get update -qq && apt-get install -y -qq $(2) >/dev/null; }; }; } \
	|| { echo "deps-dist: could not install $(2); install it (Debian/Ubuntu: sudo apt-get install $(2)) and run make again"; exit 1; }; }
endef

# ---------------------------------------------------------------------------------------------
# The artifacts.

dist: deps-dist-build
	@start=$$(date +%s); \
	rm -rf $(DIST) && mkdir -p $(DIST) && \
	$(MAKE) --no-print-directory dist-libs dist-wheels dist-sdist dist-c dist-node dist-sums dist-check && \
	echo "make dist: imds $(IMDS_VERSION) in $(DIST) ($$(( $$(date +%s) - start )) s)"

# libimds (static and shared) and the Node addon for the four targets, in one cargo run.
dist-libs:
	PATH=$(DIST_PATH) $(DIST_CARGO_ENV) $(CARGO) zigbuild --locked --offline --quiet --profile $(DIST_PROFILE) \
		$(foreach p,$(DIST_PLATFORMS),--target $(call dist_zig_target,$(p))) -p imds-ffi -p imds-node

# abi3 wheels: manylinux2014 (glibc 2.17) and musllinux_1_2, both CPUs. In a target dir of their
# own: maturin builds with target-applies-to-host off, which changes the fingerprint of the host's
# build scripts and proc macros, so that sharing one target dir with cargo-zigbuild would rebuild
# them, and all that depends on them, on every run of either. The musllinux wheels' module
# then names musl's libc as Alpine does (packaging/musl-wheel), which auditwheel requires.
dist-wheels:
	@mkdir -p $(DIST)
	$(foreach p,$(DIST_PLATFORMS),cd $(PY_DIR) && PATH=$(DIST_PATH) $(DIST_CARGO_ENV) maturin build --quiet --locked \
		--offline --profile $(DIST_PROFILE) --zig --target $(call dist_triple,$(p)) --target-dir $(DIST_WHEEL_TARGET) \
		--compatibility $(call dist_wheel_tag,$(p)) --out $(DIST) &&) true
	PATH=$(DIST_PATH) $(ROOT)/packaging/musl-wheel $(DIST)/$(DIST_PY_NAME)-*musllinux*.whl

# The sdist, with every crate it builds from vendored (packaging/sdist), so that it builds offline.
dist-sdist:
	SOURCE_DATE_EPOCH=$(DIST_EPOCH) PATH=$(DIST_PATH) $(ROOT)/packaging/sdist $(PY_DIR) $(DIST) $(DIST_BUILD)/sdist

# The static `imds` command of each CPU: the C command linked against musl's libimds.a, static.
$(DIST_BUILD)/bin/%/imds: dist-libs
	@mkdir -p $(@D)
	$(DIST_ZIG) cc -target $*-linux-musl -static -std=c11 -O2 -Wall -Wextra -Werror -I$(ROOT)/include -I$(C_SRC) \
		-o $@ $(C_SRC)/imds.c $(C_SRC)/driver.c $(call dist_lib,$*-linux-musl)/libimds.a \
		$(DIST_MUSL_UNWIND) -Wl,--gc-sections -s

# Rust's std on musl calls the unwinder from rustc's own copy of LLVM's libunwind.
DIST_MUSL_UNWIND = $(shell rustc --print sysroot)/lib/rustlib/$*-unknown-linux-musl/lib/self-contained/libunwind.a

# One tarball per target (layout: packaging/c-tarball).
dist-c: $(DIST_BUILD)/bin/x86_64/imds $(DIST_BUILD)/bin/aarch64/imds
	@$(foreach p,$(DIST_PLATFORMS),SOURCE_DATE_EPOCH=$(DIST_EPOCH) ZIG="$(DIST_ZIG)" $(ROOT)/packaging/c-tarball \
		$(p) $(IMDS_VERSION) $(IMDS_ABI) $(call dist_lib,$(p)) $(DIST_BUILD)/bin/$(firstword $(subst -, ,$(p)))/imds \
		$(ROOT) $(DIST_BUILD)/c $(DIST) &&) true

# Timestamps in the tarballs: the last commit's, so that the same tree packs the same bytes.
DIST_EPOCH = $(shell git -C $(ROOT) log -1 --format=%ct 2>/dev/null || echo 0)

# npm: one package per platform with its addon, and the main package (lib/native.js loads the
# platform package npm installed), laid out by packaging/stage-npm.js, packed by npm.
dist-node:
	$(NODE) $(ROOT)/packaging/stage-npm.js $(IMDS_VERSION) $(DIST_BUILD)/npm $(NODE_DIR) \
		$(foreach p,$(DIST_PLATFORMS),$(call dist_node,$(p))=$(call dist_lib,$(p))/libimds_node.so)
	@for dir in $(DIST_BUILD)/npm/*/; do \
		(cd $$dir && npm pack --silent --pack-destination $(DIST) >/dev/null) || exit 1; done

dist-sums:
	cd $(DIST) && rm -f SHA256SUMS && sha256sum * > SHA256SUMS.tmp && mv SHA256SUMS.tmp SHA256SUMS

dist-check:
	PATH=$(DIST_PATH) $(ROOT)/packaging/check-artifacts $(DIST) $(IMDS_VERSION) $(IMDS_ABI) $(DIST_SYSROOTS)

# ---------------------------------------------------------------------------------------------
# The artifacts, installed and run as users would (test-dist, part of `make test`).

# No Rust toolchain here: the installed packages must work without one.
DIST_NO_RUST_PATH := /usr/local/bin:/usr/bin:/bin
DIST_CONFORMANCE = $(TESTKIT_BIN)/imds-conformance
DIST_C_TRY := $(DIST_TRY)/c
DIST_VENV := $(DIST_TRY)/venv
DIST_SDIST_VENV := $(DIST_TRY)/venv-sdist
DIST_NODE_X64 := $(DIST_TRY)/node-x64
DIST_NODE_ARM64 := $(DIST_TRY)/node-arm64
ARM64_PYTHON = $(notdir $(firstword $(wildcard $(ARM64_ROOT)/usr/lib/python3.[0-9]*)))
ARM64_SITE = $(ARM64_ROOT)/usr/local/lib/$(ARM64_PYTHON)/dist-packages
ARM64_RUN = $(QEMU_AARCH64) -L $(ARM64_ROOT)
# The arm64 Python and Node, as the conformance runner's command lines.
ARM64_IMPLS = python_arm64=$(ARM64_RUN) $(ARM64_ROOT)/usr/bin/python3 -m imds \
	node_arm64=$(ARM64_RUN) $(ARM64_ROOT)/usr/bin/node $(DIST_NODE_ARM64)/node_modules/imds/bin/imds.js
# One emulated Python or Node per core: more at once starve each other of CPU, and a command whose
# event loop runs late misses the 1 s deadlines the scenarios expect to be met.
ARM64_JOBS := 2
ARM64_SUBSET = $(foreach s,$(shell sed 's/\#.*//' $(ROOT)/packaging/arm64-scenarios.txt),--scenario $(s))

test-dist: test-dist-c test-dist-python test-dist-node test-dist-conformance

# The README's C example from each tarball, with pkg-config: shared (NEEDED libimds.so.ABI) and
# static (no NEEDED libimds), each fetching credentials from imds-mock.
test-dist-c: dist build-testkit $(C_README_EXAMPLE) $(C_WITH_MOCK)
	@rm -rf $(DIST_C_TRY) && mkdir -p $(DIST_C_TRY)
	@set -e; for p in $(DIST_PLATFORMS); do \
		tar -xzf $(DIST)/imds-$(IMDS_VERSION)-$$p.tar.gz -C $(DIST_C_TRY); \
		prefix=$(DIST_C_TRY)/imds-$(IMDS_VERSION)-$$p; lib=$$prefix/lib; cpu=$${p%%-*}; libc=$${p##*-}; \
		case $$p in \
			x86_64-linux-gnu) cc="$(C_CC)"; run=""; \
				shared_run="/usr/bin/env LD_LIBRARY_PATH=$$lib";; \
			aarch64-linux-gnu) cc="$(DIST_ZIG) cc -target aarch64-linux-gnu.2.17"; run="$(ARM64_RUN)"; \
				shared_run="$(ARM64_RUN) -E LD_LIBRARY_PATH=$$lib";; \
			x86_64-linux-musl) cc="$(DIST_ZIG) cc -target x86_64-linux-musl"; run=""; \
				shared_run="$(DIST_SYSROOTS)/musl-x86_64/usr/lib/ld-musl-x86_64.so.1 --library-path $$lib";; \
			aarch64-linux-musl) cc="$(DIST_ZIG) cc -target aarch64-linux-musl"; run="$(QEMU_AARCH64)"; \
				shared_run="$(QEMU_AARCH64) $(DIST_SYSROOTS)/musl-aarch64/usr/lib/ld-musl-aarch64.so.1 --library-path $$lib";; \
		esac; \
		export PKG_CONFIG_PATH=$$lib/pkgconfig; \
		echo "test-dist-c: $$p: $$cc \$$(pkg-config --cflags --libs imds)"; \
		$$cc -std=c11 -O2 -o $$prefix/example-shared $(C_README_EXAMPLE) $$(pkg-config --cflags --libs imds); \
		readelf -d $$prefix/example-shared | grep -q "NEEDED.*\[libimds.so.$(IMDS_ABI)\]" \
			|| { echo "test-dist-c: $$p: example-shared does not need libimds.so.$(IMDS_ABI)"; exit 1; }; \
		$(C_WITH_MOCK) $(C_MOCK) --expect $(C_EXAMPLE_KEY) -- $$shared_run $$prefix/example-shared; \
		static=$$([ $$libc = musl ] && echo -static || true); \
		echo "test-dist-c: $$p: $$cc $$static \$$(pkg-config --cflags --libs imds-static)"; \
		$$cc -std=c11 -O2 $$static -o $$prefix/example-static $(C_README_EXAMPLE) $$(pkg-config --cflags --libs imds-static); \
		! readelf -d $$prefix/example-static | grep -q "NEEDED.*libimds" \
			|| { echo "test-dist-c: $$p: example-static still needs libimds"; exit 1; }; \
		$(C_WITH_MOCK) $(C_MOCK) --expect $(C_EXAMPLE_KEY) -- $$run $$prefix/example-static; \
	done

# The manylinux wheel into a fresh venv (pip picks it from dist/ by its tags), the test
# dependencies from the wheelhouse; the Python tests with no Rust on PATH. Then a wheel that pip
# builds from the sdist with no network and an empty CARGO_HOME (vendored crates), in another venv.
# And the README's credential_process example, the static bin/imds run by botocore.
test-dist-python: dist build-testkit test-dist-c $(C_WITH_MOCK)
	rm -rf $(DIST_VENV) $(DIST_SDIST_VENV) $(DIST_TRY)/sdist-wheel $(DIST_TRY)/cargo-home
	python3 -m venv $(DIST_VENV)
	$(DIST_VENV)/bin/pip install --disable-pip-version-check --no-index --find-links $(DIST) \
		imds-credentials==$(IMDS_VERSION) | grep -E '^(Processing|Successfully)'
	grep -v -E '^(maturin|mypy)==' $(PY_DIR)/requirements-dev.txt > $(DIST_TRY)/test-requirements.txt
	$(DIST_VENV)/bin/pip install --quiet --disable-pip-version-check --no-index --find-links $(DIST_WHEELHOUSE) \
		-r $(DIST_TRY)/test-requirements.txt
	cd $(PY_DIR) && PATH=$(DIST_VENV)/bin:$(DIST_NO_RUST_PATH) $(DIST_VENV)/bin/python -c \
		'import imds, shutil, sys; assert imds.__file__.startswith(sys.prefix), imds.__file__; \
		assert not shutil.which("cargo") and not shutil.which("rustc"), "Rust on PATH"; \
		print("test-dist-python: imds from", imds.__file__)'
	cd $(PY_DIR) && PATH=$(DIST_VENV)/bin:$(DIST_NO_RUST_PATH) IMDS_MOCK=$(C_MOCK) \
		IMDS_RUST_CLI=$(TESTKIT_BIN)/imds IMDS_REPO_ROOT=$(ROOT) \
		$(DIST_VENV)/bin/python -m pytest -q -p no:cacheprovider tests
	mkdir -p $(DIST_TRY)/cargo-home
	CARGO_HOME=$(DIST_TRY)/cargo-home CARGO_NET_OFFLINE=true $(PY) -m pip wheel --quiet --disable-pip-version-check \
		--no-index --find-links $(DIST_WHEELHOUSE) --no-deps --wheel-dir $(DIST_TRY)/sdist-wheel \
		$(DIST)/$(DIST_PY_NAME)-$(IMDS_VERSION).tar.gz
	$(C_WITH_MOCK) $(C_MOCK) --expect $(C_EXAMPLE_KEY) -- $(DIST_VENV)/bin/python \
		$(ROOT)/packaging/credential-process-check $(ROOT)/README.md \
		$(DIST_C_TRY)/imds-$(IMDS_VERSION)-x86_64-linux-gnu/bin/imds $(DIST_TRY)/credential-process
	python3 -m venv $(DIST_SDIST_VENV)
	$(DIST_SDIST_VENV)/bin/pip install --quiet --disable-pip-version-check --no-index $(DIST_TRY)/sdist-wheel/*.whl
	@echo "test-dist-python: the sdist built offline into $$(ls $(DIST_TRY)/sdist-wheel)"

# `npm install imds` from a registry on loopback serving dist/'s packages, into fresh projects with
# no Rust on PATH: one for this machine (x64, glibc) and one for arm64 glibc. Each must hold the
# main package and the one platform package that fits, nothing else. Then the loader's error when
# the platform package is missing (npm's --omit=optional).
test-dist-node: dist
	rm -rf $(DIST_NODE_X64) $(DIST_NODE_ARM64) $(DIST_TRY)/node-omit $(DIST_TRY)/npm-cache
	for project in $(DIST_NODE_X64) $(DIST_NODE_ARM64) $(DIST_TRY)/node-omit; do \
		mkdir -p $$project && echo '{"name": "try-imds", "private": true}' > $$project/package.json; done
	PATH=$(DIST_NO_RUST_PATH) $(ROOT)/packaging/npm-registry $(DIST) -- sh -euc '\
		npm="npm install --no-audit --no-fund --no-update-notifier --cache $(DIST_TRY)/npm-cache"; \
		cd $(DIST_NODE_X64) && $$npm imds@$(IMDS_VERSION); \
		cd $(DIST_NODE_ARM64) && $$npm --os=linux --cpu=arm64 --libc=glibc imds@$(IMDS_VERSION); \
		cd $(DIST_TRY)/node-omit && $$npm --omit=optional imds@$(IMDS_VERSION)'
	test "$$(ls $(DIST_NODE_X64)/node_modules | grep imds | tr '\n' ' ')" = "imds imds-linux-x64-gnu " \
		|| { ls $(DIST_NODE_X64)/node_modules; echo "test-dist-node: expected imds and imds-linux-x64-gnu"; exit 1; }
	test "$$(ls $(DIST_NODE_ARM64)/node_modules | grep imds | tr '\n' ' ')" = "imds imds-linux-arm64-gnu " \
		|| { ls $(DIST_NODE_ARM64)/node_modules; echo "test-dist-node: expected imds and imds-linux-arm64-gnu"; exit 1; }
	cd $(DIST_NODE_X64) && PATH=$(DIST_NO_RUST_PATH) $(NODE) -e \
		'const imds = require("imds"); console.log("test-dist-node: imds", imds.version(), "with", require.resolve("imds-linux-x64-gnu"))'
	cd $(DIST_TRY)/node-omit && ! $(NODE) -e 'require("imds")' 2> $(DIST_TRY)/node-omit/error.txt
	grep -q 'the addon for linux-x64-gnu is not installed.*npm install imds-linux-x64-gnu@$(IMDS_VERSION).*npm ci && npm run build' \
		$(DIST_TRY)/node-omit/error.txt || { cat $(DIST_TRY)/node-omit/error.txt; echo "test-dist-node: not the loader's error"; exit 1; }
	@echo "test-dist-node: without its platform package: $$(grep -o 'imds: the addon for [^:]*:' $(DIST_TRY)/node-omit/error.txt) ..."

# Every scenario against each installed front end of this machine and the static bin/imds of both
# CPUs (arm64 under qemu); the scenarios of packaging/arm64-scenarios.txt against arm64 Python
# (manylinux2014 wheel) and Node (gnu package).
test-dist-conformance: test-dist-c test-dist-python test-dist-node test-dist-arm64-install build-testkit
	@for family in $$(ls $(ROOT)/tests/conformance | sed 's/-.*//' | sort -u); do \
		sed 's/#.*//' $(ROOT)/packaging/arm64-scenarios.txt | grep -q "^$$family-" \
		|| { echo "packaging/arm64-scenarios.txt: no scenario of the family $$family-*"; exit 1; }; done
	@cmp $(DIST_C_TRY)/imds-$(IMDS_VERSION)-x86_64-linux-gnu/bin/imds $(DIST_C_TRY)/imds-$(IMDS_VERSION)-x86_64-linux-musl/bin/imds
	@cmp $(DIST_C_TRY)/imds-$(IMDS_VERSION)-aarch64-linux-gnu/bin/imds $(DIST_C_TRY)/imds-$(IMDS_VERSION)-aarch64-linux-musl/bin/imds
	PATH=$(DIST_NO_RUST_PATH) $(DIST_CONFORMANCE) --impl-list "\
		c_static_x86_64=$(DIST_C_TRY)/imds-$(IMDS_VERSION)-x86_64-linux-musl/bin/imds \
		c_static_aarch64=$(QEMU_AARCH64) $(DIST_C_TRY)/imds-$(IMDS_VERSION)-aarch64-linux-musl/bin/imds \
		python_wheel=$(DIST_VENV)/bin/python -m imds \
		python_script=$(DIST_VENV)/bin/imds \
		python_sdist=$(DIST_SDIST_VENV)/bin/python -m imds \
		node_npm=$(DIST_NODE_X64)/node_modules/.bin/imds"
	PATH=$(DIST_NO_RUST_PATH) $(DIST_CONFORMANCE) --jobs $(ARM64_JOBS) $(ARM64_SUBSET) --impl-list "$(ARM64_IMPLS)"

# The arm64 manylinux2014 wheel into the arm64 root's Python (pip checks its tags against that
# Python's), byte-compiled there.
test-dist-arm64-install: dist
	rm -rf $(ARM64_SITE)
	$(PY) -m pip install --quiet --disable-pip-version-check --no-index --find-links $(DIST) --no-deps \
		--only-binary :all: --platform manylinux2014_aarch64 --implementation cp --abi abi3 \
		--python-version $(subst python,,$(ARM64_PYTHON)) --target $(ARM64_SITE) imds-credentials==$(IMDS_VERSION)
	@ls $(ARM64_SITE) | grep -q '^imds_credentials-$(IMDS_VERSION).dist-info$$'
	$(ARM64_RUN) $(ARM64_ROOT)/usr/bin/python3 -m compileall -q $(ARM64_SITE)/imds

# Every scenario for arm64 Python and Node (slow: a few seconds per emulated start).
test-arm64: deps
	$(NETNS) $(MAKE) --no-print-directory test-arm64-offline

test-arm64-offline: test-dist-node test-dist-arm64-install build-testkit
	PATH=$(DIST_NO_RUST_PATH) $(DIST_CONFORMANCE) --jobs $(ARM64_JOBS) --impl-list "$(ARM64_IMPLS)"
