# C: libimds (ffi-c, package imds-ffi), the `imds` command in C, the C tests (ASan + UBSan, C and
# C++, valgrind, allocation count, the README examples, the blocking metadata read), the C++
# wrapper's test (include/imds.hpp), the epoll example (ffi-c/examples), `make install-c` /
# `make install`, and `make bench-c`.
#
# Tests and the conformance command link the debug libimds.a that `cargo test` builds anyway;
# install and the benchmark use the size-optimised `release-small` profile.
DEPS += deps-c
TESTS += test-c
CONFORMANCE_IMPLS += c=$(ROOT)/build/c/imds
CONFORMANCE_DEPS += build-c
DEMO_IMPLS += c=$(ROOT)/build/c/imds
DEMO_DEPS += build-c

PREFIX ?= /usr/local
C_TARGET := $(or $(CARGO_TARGET_DIR),$(ROOT)/target)
C_BUILD := $(ROOT)/build/c
C_DEBUG_LIB := $(C_TARGET)/debug
# The installed and benchmarked library: the `release-small` profile (opt-level s, LTO, stripped,
# panic = unwind for catch_unwind). With nightly's rust-src installed it is built with
# `-Z build-std` and no std features, which leaves out the backtrace symbolizer (gimli, addr2line,
# ~175 KB) that std's default panic hook otherwise links: 270 KiB instead of 454 KiB stripped.
C_HOST := $(shell rustc -vV 2>/dev/null | sed -n 's/^host: //p')
C_COMMA := ,
# Recursive (`=`) so that they are read when a recipe runs, after `deps-c-release` installed rust-src.
C_BUILD_STD = $(shell rustup component list --toolchain nightly --installed 2>/dev/null | grep -qx rust-src && echo yes)
C_RELEASE_LIB = $(if $(C_BUILD_STD),$(C_TARGET)/$(C_HOST)/release-small,$(C_TARGET)/release-small)
C_RELEASE_BUILD = $(if $(C_BUILD_STD),$(CARGO) +nightly build --quiet -p imds-ffi --profile release-small \
	--target $(C_HOST) -Z build-std=std$(C_COMMA)panic_unwind -Z build-std-features=,$(CARGO) build --locked \
	--quiet -p imds-ffi --profile release-small)
C_MOCK := $(C_TARGET)/debug/imds-mock
C_SRC := $(ROOT)/ffi-c/c
C_CC ?= gcc
C_CXX ?= g++
C_WARN := -Wall -Wextra -Werror
C_INCLUDES := -I$(ROOT)/include -I$(C_SRC) -I$(C_SRC)/tests
C_FLAGS := -std=c11 $(C_WARN) -g $(C_INCLUDES)
C_CXX_FLAGS := -x c++ -std=c++17 $(C_WARN) -g $(C_INCLUDES)
C_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
C_LIBS := -l:libimds.a -lpthread -ldl -lm
C_VALGRIND := valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,possible
C_TEST_SRC := $(C_SRC)/tests/test_api.c $(C_SRC)/driver.c

.PHONY: deps-c deps-c-release lib-c lib-c-release build-c test-c test-c-header test-c-asan test-c-cxx \
	test-c-valgrind test-c-alloc test-c-wipe test-c-readme build-c-release install install-c bench-c \
	check-extra-c test-c-fetch-metadata install-c-headers test-c-cxx-wrapper test-c-example-epoll

deps-c:
	@command -v $(C_CC) >/dev/null && command -v $(C_CXX) >/dev/null \
		|| { echo "deps-c: installing gcc/g++"; apt-get install -y gcc g++; }
	@command -v valgrind >/dev/null || { echo "deps-c: installing valgrind"; apt-get install -y valgrind; }
	@command -v pkg-config >/dev/null || { echo "deps-c: installing pkg-config"; apt-get install -y pkg-config; }

lib-c:
	$(CARGO) build --locked --offline --quiet -p imds-ffi

# Needs the network once: nightly's rust-src for the small library (skipped where there is no nightly).
deps-c-release:
	@if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then \
		rustup component add rust-src --toolchain nightly >/dev/null 2>&1 || \
		echo "deps-c-release: could not add rust-src to nightly; building libimds with stable std"; \
	fi

lib-c-release: deps-c-release
	$(C_RELEASE_BUILD)

# The C `imds` command the conformance suite and the demo run.
build-c: lib-c
	@mkdir -p $(C_BUILD)
	$(C_CC) $(C_FLAGS) -O2 -o $(C_BUILD)/imds $(C_SRC)/imds.c $(C_SRC)/driver.c -L$(C_DEBUG_LIB) $(C_LIBS)

test-c: test-c-header test-c-asan test-c-cxx test-c-valgrind test-c-alloc test-c-wipe test-c-readme \
	test-c-fetch-metadata test-c-cxx-wrapper test-c-example-epoll

# include/imds.h is what the pinned cbindgen generates (also part of `cargo test`).
test-c-header:
	$(CARGO) test --locked --offline --quiet -p imds-ffi --test header

test-c-asan: lib-c build-testkit
	@mkdir -p $(C_BUILD)
	$(C_CC) $(C_FLAGS) $(C_SAN) -o $(C_BUILD)/test_api_asan $(C_TEST_SRC) -L$(C_DEBUG_LIB) $(C_LIBS)
	$(C_BUILD)/test_api_asan $(C_MOCK)

test-c-cxx: lib-c build-testkit
	@mkdir -p $(C_BUILD)
	$(C_CXX) $(C_CXX_FLAGS) $(C_SAN) -o $(C_BUILD)/test_api_cxx $(C_TEST_SRC) -L$(C_DEBUG_LIB) $(C_LIBS)
	$(C_BUILD)/test_api_cxx $(C_MOCK)

test-c-valgrind: lib-c build-testkit
	@mkdir -p $(C_BUILD)
	$(C_CC) $(C_FLAGS) -O0 -o $(C_BUILD)/test_api $(C_TEST_SRC) -L$(C_DEBUG_LIB) $(C_LIBS)
	$(C_VALGRIND) $(C_BUILD)/test_api $(C_MOCK)

# Zero heap allocations per credential fetch once a client is initialised in caller storage.
test-c-alloc: lib-c build-testkit
	@mkdir -p $(C_BUILD)
	$(C_CC) $(C_FLAGS) -O0 -o $(C_BUILD)/test_alloc $(C_SRC)/tests/test_alloc.c $(C_SRC)/driver.c \
		-L$(C_DEBUG_LIB) $(C_LIBS)
	$(C_BUILD)/test_alloc $(C_MOCK)

# No token, secret key or session token left in a client's memory after reset, deinit or free
# (caller storage scanned; heap blocks scanned by a replacement free()).
test-c-wipe: lib-c build-testkit
	@mkdir -p $(C_BUILD)
	$(C_CC) $(C_FLAGS) -O2 -o $(C_BUILD)/test_wipe $(C_SRC)/tests/test_wipe.c $(C_SRC)/driver.c \
		-L$(C_DEBUG_LIB) $(C_LIBS)
	$(C_BUILD)/test_wipe $(C_MOCK)

# imds_fetch_metadata() (the blocking metadata read) against the mock, under ASan + UBSan and
# under valgrind.
test-c-fetch-metadata: lib-c build-testkit
	@mkdir -p $(C_BUILD)
	$(C_CC) $(C_FLAGS) $(C_SAN) -o $(C_BUILD)/test_fetch_metadata_asan \
		$(C_SRC)/tests/test_fetch_metadata.c -L$(C_DEBUG_LIB) $(C_LIBS)
	$(C_BUILD)/test_fetch_metadata_asan $(C_MOCK)
	$(C_CC) $(C_FLAGS) -O0 -o $(C_BUILD)/test_fetch_metadata $(C_SRC)/tests/test_fetch_metadata.c \
		-L$(C_DEBUG_LIB) $(C_LIBS)
	$(C_VALGRIND) $(C_BUILD)/test_fetch_metadata $(C_MOCK)

# include/imds.hpp, the C++17 wrapper, as installed (`install-c-headers` into a staging
# directory, nothing else on the include path but the test harness), in two translation units,
# with strict warnings, -fno-exceptions -fno-rtti, under ASan + UBSan, against the mock.
C_STAGE := $(C_BUILD)/stage
C_CXX_WRAPPER_FLAGS := -std=c++17 $(C_WARN) -Wpedantic -Wshadow -Wconversion -Wsign-conversion \
	-Wold-style-cast -fno-exceptions -fno-rtti -g -I$(C_STAGE)/prefix/include -I$(C_SRC)/tests
test-c-cxx-wrapper: lib-c build-testkit $(C_BUILD)/with_mock
	@rm -rf $(C_STAGE)
	$(MAKE) --no-print-directory install-c-headers DESTDIR=$(C_STAGE) PREFIX=/prefix
	$(C_CXX) $(C_CXX_WRAPPER_FLAGS) $(C_SAN) -o $(C_BUILD)/test_cxx_wrapper \
		$(C_SRC)/tests/test_cxx_wrapper.cpp $(C_SRC)/tests/cxx_second_unit.cpp -L$(C_DEBUG_LIB) $(C_LIBS)
	$(C_BUILD)/test_cxx_wrapper $(C_MOCK)
	sed -n '/<!-- cxx example start -->/,/<!-- cxx example end -->/p' $(ROOT)/README.md \
		| sed '1,/^```cpp$$/d; /^```$$/,$$d' > $(C_BUILD)/readme_example.cpp
	@test -s $(C_BUILD)/readme_example.cpp || { echo "test-c-cxx-wrapper: no C++ example in README.md"; exit 1; }
	$(C_CXX) $(C_CXX_WRAPPER_FLAGS) $(C_SAN) -o $(C_BUILD)/readme_example_cxx $(C_BUILD)/readme_example.cpp \
		-L$(C_DEBUG_LIB) $(C_LIBS)
	$(C_BUILD)/with_mock $(C_MOCK) --expect 'access key id ASIAMOCKEXAMPLE00001, expires at 1893456000' \
		--expect 'region us-east-1' -- $(C_BUILD)/readme_example_cxx

# ffi-c/examples/epoll_clients.c (three clients, one operation each, in one epoll loop) under
# ASan + UBSan against the mock, twice. First the token answers come 300 ms late, so all three
# clients wait on the mock at the same moment, and the region answers 500 once and closes the
# connection without saying so: that client backs off (a WAIT deadline as epoll_wait's timeout),
# sees the close while waiting and retries on a new connection. Then instance-id never answers in
# time: its receive deadline ends it with the core's timeout message while the other two succeed.
C_EXAMPLE_SCRIPT_CONCURRENT := {"responses":[{"path":"/latest/api/token","delay_ms":300,"times":3},\
	{"path":"/latest/meta-data/placement/region",\
	"raw":"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n"}]}
C_EXAMPLE_SCRIPT_TIMEOUT := {"responses":[{"path":"/latest/meta-data/instance-id","delay_ms":5000,"times":0}]}
test-c-example-epoll: lib-c build-testkit $(C_BUILD)/with_mock
	$(C_CC) $(C_FLAGS) $(C_SAN) -o $(C_BUILD)/epoll_clients $(ROOT)/ffi-c/examples/epoll_clients.c \
		-L$(C_DEBUG_LIB) $(C_LIBS)
	$(C_BUILD)/with_mock $(C_MOCK) --script-json '$(C_EXAMPLE_SCRIPT_CONCURRENT)' \
		--expect 'credentials: ASIAMOCKEXAMPLE00001 expires 1893456000' \
		--expect 'placement/region: us-east-1' --expect 'instance-id: i-0123456789abcdef0' \
		--expect 'most clients awaiting an answer at once: 3' \
		--expect 'kept connections the server closed during a back-off: 1' -- $(C_BUILD)/epoll_clients --trace
	$(C_BUILD)/with_mock $(C_MOCK) --script-json '$(C_EXAMPLE_SCRIPT_TIMEOUT)' --status 1 \
		--expect 'credentials: ASIAMOCKEXAMPLE00001 expires 1893456000' \
		--expect 'placement/region: us-east-1' \
		--expect 'instance-id: failed: timed out waiting for IMDS' \
		-- /usr/bin/env AWS_METADATA_SERVICE_TIMEOUT=0.2 AWS_METADATA_SERVICE_NUM_ATTEMPTS=1 \
		$(C_BUILD)/epoll_clients

# Runs a command against a fresh mock and checks its output (the README examples, the epoll one).
$(C_BUILD)/with_mock: $(C_SRC)/tests/with_mock.c $(C_SRC)/tests/harness.h
	@mkdir -p $(C_BUILD)
	$(C_CC) $(C_FLAGS) -o $@ $<

# The README's C example, extracted between its markers, built and run against the mock (also
# built from the release tarballs by test-dist-c).
C_README_EXAMPLE := $(C_BUILD)/readme_example.c
C_WITH_MOCK := $(C_BUILD)/with_mock
C_EXAMPLE_KEY := ASIAMOCKEXAMPLE00001

.PHONY: $(C_README_EXAMPLE)
$(C_README_EXAMPLE):
	@mkdir -p $(@D)
	sed -n '/<!-- c example start -->/,/<!-- c example end -->/p' $(ROOT)/README.md \
		| sed '1,/^```c$$/d; /^```$$/,$$d' > $@
	@test -s $@ || { echo "$@: no C example in README.md"; exit 1; }

test-c-readme: lib-c build-testkit $(C_README_EXAMPLE) $(C_WITH_MOCK)
	$(C_CC) $(C_FLAGS) -o $(C_BUILD)/readme_example $(C_README_EXAMPLE) -L$(C_DEBUG_LIB) $(C_LIBS)
	$(C_WITH_MOCK) $(C_MOCK) --expect $(C_EXAMPLE_KEY) -- $(C_BUILD)/readme_example

# `make install PREFIX=...`: libimds.a, libimds.so.VERSION with its links (SONAME libimds.so.ABI),
# imds.h, imds.hpp, imds.pc (shared) and imds-static.pc, and the `imds` command.
install: install-c

# The C header and the C++ wrapper (test-c-cxx-wrapper compiles against this step's output).
install-c-headers:
	install -d $(DESTDIR)$(PREFIX)/include
	install -m 644 $(ROOT)/include/imds.h $(ROOT)/include/imds.hpp $(DESTDIR)$(PREFIX)/include/

# The `imds` command linked statically against the size-optimised library, stripped.
build-c-release: lib-c-release
	@mkdir -p $(C_BUILD)/release
	$(C_CC) -std=c11 $(C_WARN) -O2 $(C_INCLUDES) -o $(C_BUILD)/release/imds $(C_SRC)/imds.c $(C_SRC)/driver.c \
		-L$(C_RELEASE_LIB) $(C_LIBS) -Wl,--gc-sections
	strip $(C_BUILD)/release/imds

install-c: build-c-release install-c-headers
	install -d $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/bin
	install -m 644 $(C_RELEASE_LIB)/libimds.a $(DESTDIR)$(PREFIX)/lib/libimds.a
	install -m 755 $(C_RELEASE_LIB)/libimds.so $(DESTDIR)$(PREFIX)/lib/libimds.so.$(IMDS_VERSION)
	ln -sf libimds.so.$(IMDS_VERSION) $(DESTDIR)$(PREFIX)/lib/libimds.so.$(IMDS_ABI)
	ln -sf libimds.so.$(IMDS_ABI) $(DESTDIR)$(PREFIX)/lib/libimds.so
	install -m 755 $(C_BUILD)/release/imds $(DESTDIR)$(PREFIX)/bin/imds
	for pc in imds imds-static; do \
		sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(IMDS_VERSION)|' -e 's|@ABI@|$(IMDS_ABI)|' \
			-e 's|@STATIC_LIBS@|-lpthread -ldl -lm|' $(ROOT)/ffi-c/$$pc.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/$$pc.pc; done

# Per-fetch time of the C driver against the mock next to a plain-socket client (the floor), and
# the stripped library sizes. A program that prints figures, not a test.
bench-c: build-c-release
	$(CARGO) build --locked --offline --quiet --release -p imds-testkit --bins
	@mkdir -p $(C_BUILD)
	$(C_CC) -std=c11 $(C_WARN) -O2 $(C_INCLUDES) -o $(C_BUILD)/bench $(C_SRC)/bench.c $(C_SRC)/driver.c \
		-L$(C_RELEASE_LIB) $(C_LIBS) -Wl,--gc-sections
	$(C_BUILD)/bench $(C_TARGET)/release/imds-mock $(C_RELEASE_LIB)/libimds.so $(C_RELEASE_LIB)/libimds.a \
		$(C_BUILD)/release/imds

# Not part of `make test` (needs a nightly toolchain): test_api with the Rust side instrumented by
# AddressSanitizer too (gcc's -fsanitize only instruments the C side).
check-extra-c: build-testkit
	RUSTFLAGS=-Zsanitizer=address $(CARGO) +nightly build --quiet --offline -p imds-ffi \
		--target $(C_HOST) --target-dir $(C_TARGET)/asan
	@mkdir -p $(C_BUILD)
	$(C_CC) $(C_FLAGS) $(C_SAN) -o $(C_BUILD)/test_api_asan_rust $(C_TEST_SRC) \
		-L$(C_TARGET)/asan/$(C_HOST)/debug $(C_LIBS)
	$(C_BUILD)/test_api_asan_rust $(C_MOCK)
