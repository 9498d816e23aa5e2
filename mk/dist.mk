# Release artifacts. `make dist` builds into dist/ everything a user installs, for x86_64 and
# aarch64 Linux, glibc (2.17 and later) and musl, with SHA256SUMS (VERSION: the workspace version
# in Cargo.toml; ABI: 0.MINOR before 1.0, then MAJOR):
#
#   imds_credentials-VERSION-cp39-abi3-manylinux_2_17_{x86_64,aarch64}.manylinux2014_*.whl  PyPI
#   imds_credentials-VERSION-cp39-abi3-musllinux_1_2_{x86_64,aarch64}.whl
#   imds_credentials-VERSION.tar.gz                                  the sdist (crates vendored)
#   imds-VERSION.tgz, imds-linux-{x64,arm64}-{gnu,musl}-VERSION.tgz  npm: main + platform packages
#   imds-VERSION-{x86_64,aarch64}-linux-{gnu,musl}.tar.gz            C: lib/libimds.{a,so.VERSION},
#        the SONAME link libimds.so.ABI, libimds.so, include/imds.h, lib/pkgconfig/imds{,-static}.pc,
#        bin/imds (static, musl)
#
# One cargo-zigbuild run builds libimds and the Node addon for the four targets into the shared
# target dir (profile release-small); maturin --zig builds the wheels from the same compiled crates.
# zig links the gnu targets against glibc 2.17's symbols. packaging/check-artifacts then checks
# every file (CPU, GLIBC_2.17 at most, musl libc only, SONAME, static bin/imds, wheel tags).
#
# `make test` runs test-dist on what `make dist` built (inside the loopback-only namespace; the
# arm64 Debian root and the Python test wheels are fetched by deps-dist before it):
#   x86_64  the manylinux wheel in a fresh venv (no Rust on PATH): the Python tests and the
#           conformance suite through `python -m imds`; a wheel built offline from the sdist: the
#           conformance suite; `npm install imds` from a registry on loopback into a fresh project
#           (no Rust on PATH): the conformance suite through its `imds` bin; the README's C example
#           built from the C tarballs with pkg-config, shared and static; the static bin/imds: the
#           conformance suite.
#   arm64   under qemu-aarch64: the static bin/imds, every scenario; Debian's arm64 Python with the
#           manylinux2014 wheel and arm64 Node with the gnu package: the scenarios named in
#           packaging/arm64-scenarios.txt (every behaviour family; emulated Node and Python start
#           slowly). `make test-arm64` runs every scenario for them.
#   musl    auditwheel and readelf (check-artifacts); the static musl bin/imds of both CPUs: the
#           conformance suite; the README's C example linked statically from the musl tarballs.
DEPS += deps-dist
TESTS += test-dist

DIST := $(ROOT)/dist
DIST_BUILD := $(ROOT)/build/dist
DIST_TRY := $(ROOT)/build/dist-try
DIST_TOOLS := $(ROOT)/build/dist-tools
DIST_CARGO_TARGET := $(or $(CARGO_TARGET_DIR),$(ROOT)/target)
DIST_PROFILE := release-small
# The tools venv first: zig (ziglang), cargo-zigbuild, maturin, auditwheel.
DIST_PATH := $(DIST_TOOLS)/bin:$(PATH)
DIST_ZIG := $(DIST_TOOLS)/bin/python -m ziglang
DIST_VERSION := $(shell sed -n '/^\[workspace\.package\]/,/^\[/s/^version = "\([^"]*\)"/\1/p' $(ROOT)/Cargo.toml)
DIST_VERSION_PARTS := $(subst ., ,$(DIST_VERSION))
DIST_ABI := $(if $(filter 0,$(word 1,$(DIST_VERSION_PARTS))),0.$(word 2,$(DIST_VERSION_PARTS)),$(word 1,$(DIST_VERSION_PARTS)))
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
		&& echo "deps-dist: byte-compiling its Python (emulated, once)" \
		&& { $(QEMU_AARCH64) -L $(ARM64_ROOT) $(ARM64_ROOT)/usr/bin/python3 -m compileall -q -j 2 \
			-x '/(test|idlelib|tkinter|turtledemo)/' $(ARM64_ROOT)/usr/lib/python3 >/dev/null || true; } \
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
	echo "make dist: imds $(DIST_VERSION) in $(DIST) ($$(( $$(date +%s) - start )) s)"

# libimds (static and shared) and the Node addon for the four targets, in one cargo run.
dist-libs:
	PATH=$(DIST_PATH) $(DIST_CARGO_ENV) $(CARGO) zigbuild --locked --offline --quiet --profile $(DIST_PROFILE) \
		$(foreach p,$(DIST_PLATFORMS),--target $(call dist_zig_target,$(p))) -p imds-ffi -p imds-node

# abi3 wheels: manylinux2014 (glibc 2.17) and musllinux_1_2, both CPUs. The musllinux wheels' module
# then names musl's libc as Alpine does (packaging/musl-wheel), which auditwheel requires.
dist-wheels:
	@mkdir -p $(DIST)
	$(foreach p,$(DIST_PLATFORMS),cd $(PY_DIR) && PATH=$(DIST_PATH) $(DIST_CARGO_ENV) maturin build --quiet --locked \
		--offline --profile $(DIST_PROFILE) --zig --target $(call dist_triple,$(p)) \
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
		$(p) $(DIST_VERSION) $(DIST_ABI) $(call dist_lib,$(p)) $(DIST_BUILD)/bin/$(firstword $(subst -, ,$(p)))/imds \
		$(ROOT) $(DIST_BUILD)/c $(DIST) &&) true

# Timestamps in the tarballs: the last commit's, so that the same tree packs the same bytes.
DIST_EPOCH = $(shell git -C $(ROOT) log -1 --format=%ct 2>/dev/null || echo 0)

# npm: one package per platform with its addon, and the main package (lib/native.js loads the
# platform package npm installed), laid out by packaging/stage-npm.js, packed by npm.
dist-node:
	$(NODE) $(ROOT)/packaging/stage-npm.js $(DIST_VERSION) $(DIST_BUILD)/npm $(NODE_DIR) \
		$(foreach p,$(DIST_PLATFORMS),$(call dist_node,$(p))=$(call dist_lib,$(p))/libimds_node.so)
	@for dir in $(DIST_BUILD)/npm/*/; do \
		(cd $$dir && npm pack --silent --pack-destination $(DIST) >/dev/null) || exit 1; done

dist-sums:
	cd $(DIST) && rm -f SHA256SUMS && sha256sum * > SHA256SUMS.tmp && mv SHA256SUMS.tmp SHA256SUMS

dist-check:
	PATH=$(DIST_PATH) $(ROOT)/packaging/check-artifacts $(DIST) $(DIST_VERSION) $(DIST_ABI) $(DIST_SYSROOTS)
