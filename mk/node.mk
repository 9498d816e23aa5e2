# Node package `imds` (bindings-node/): npm dependencies (@napi-rs/cli, and for tests and the
# benchmark @aws-sdk/client-sts, @aws-sdk/client-iam, @smithy/credential-provider-imds, pinned in
# package-lock.json), the napi-rs addon built offline, `node --test`, and `bin/imds.js` for the
# conformance suite and the demo.
DEPS += deps-node
TESTS += test-node

NODE ?= node
NODE_DIR := $(ROOT)/bindings-node
# Where cargo puts the mock server the tests start (the shared target dir unless overridden).
NODE_CARGO_TARGET := $(or $(CARGO_TARGET_DIR),$(ROOT)/target)
NODE_IMDS := $(NODE) $(NODE_DIR)/bin/imds.js

CONFORMANCE_IMPLS += node=$(NODE_IMDS)
DEMO_IMPLS += node=$(NODE_IMDS)
CONFORMANCE_DEPS += build-node
DEMO_DEPS += build-node

.PHONY: deps-node build-node test-node bench-node

deps-node:
	@command -v $(NODE) >/dev/null || { echo "deps-node: node (>= 20) is needed; apt-get install nodejs npm"; exit 1; }
	cd $(NODE_DIR) && npm ci --no-audit --no-fund --loglevel=error

# The addon (imds.linux-x64-gnu.node) and the generated typings (index.d.ts, committed: the build
# regenerates it and test-node fails if it changed). No generated loader: lib/native.js finds the
# addon (here, or in the platform package npm installed) and says what to do when there is none.
build-node:
	cd $(NODE_DIR) && CARGO_NET_OFFLINE=true npx --no-install napi build --platform --release --no-js -- --locked

test-node: build-node
	CARGO_NET_OFFLINE=true $(CARGO) build --locked --offline --quiet -p imds-testkit --bin imds-mock
	cd $(NODE_DIR) && IMDS_MOCK=$(NODE_CARGO_TARGET)/debug/imds-mock IMDS_REPO_ROOT=$(ROOT) IMDS_REQUIRE_MOTO=1 \
		AWS_SDK_JS_SUPPRESS_NODE_DEPRECATION_WARNING=1 $(NODE) --test --test-reporter=tap __test__/ | tee $(NODE_CARGO_TARGET)/node-test.tap
	@grep -Eq '^# pass [1-9]' $(NODE_CARGO_TARGET)/node-test.tap || { echo "test-node: no test ran"; exit 1; }
	@if git -C $(ROOT) rev-parse --git-dir >/dev/null 2>&1; then \
		git -C $(ROOT) diff --exit-code -- bindings-node/index.d.ts \
		|| { echo "test-node: the generated index.d.ts changed; commit it"; exit 1; }; fi

# Per-fetch and per-process figures next to @smithy/credential-provider-imds (a program that
# prints figures, not a test).
bench-node: build-node
	CARGO_NET_OFFLINE=true $(CARGO) build --locked --offline --release --quiet -p imds-testkit --bin imds-mock
	cd $(NODE_DIR) && IMDS_MOCK=$(NODE_CARGO_TARGET)/release/imds-mock $(NODE) bench/bench.mjs
