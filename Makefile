# Beeline: one entry point for set-up, build, test and demo.
#   make demo    install what is missing, build, run the demo
#   make test    install what is missing, build, run every test (unit + privileged)
SHELL := /bin/bash
.DEFAULT_GOAL := build

CLANG ?= clang
# BPF_DIR/BPF_OUT can be overridden to build a copy of the datapath with the
# same flags (the ABI drift test does: make bpf BPF_DIR=/tmp/x/bpf BPF_OUT=/tmp/x/out).
BPF_DIR ?= bpf
BPF_OUT ?= build/bpf
BPF_CFLAGS := -target bpf -O2 -g -Wall -Werror -Wno-unused-function \
	-D__TARGET_ARCH_x86 -I $(BPF_DIR)/include -I /usr/include/x86_64-linux-gnu
BPF_SRC := $(wildcard $(BPF_DIR)/*.bpf.c)
BPF_OBJ := $(patsubst $(BPF_DIR)/%.bpf.c,$(BPF_OUT)/%.bpf.o,$(BPF_SRC))
BPF_HDR := $(shell find $(BPF_DIR)/include -name '*.h')
# Benchmark-only programs (bpf/test/): built with the same flags into a
# subdirectory, so gen-abi (which reads $(BPF_OBJ)) never sees them.
BPF_TEST_OBJ := $(BPF_OUT)/test/perf.bpf.o

.PHONY: setup build bpf ts ui gen gen-check api api-check cycles-check test test-unit test-privileged demo bench-pod-network bench-control-plane bench-services bench-policy bench-policy-engine bench-datapath bench-observer bench-http-engine bench-http-l7 bench-dns-kafka bench-mesh bench-ui clean

setup:
	@bash scripts/setup.sh

build: ts ui bpf gen-check api-check cycles-check

ts: node_modules/.package-lock.json
	@echo "build: typescript"
	@npx tsc -p tsconfig.json

node_modules/.package-lock.json: package-lock.json
	@npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# The web app of `beeline ui` (ui/, React built by Vite) into dist/ui/:
# type-checked on its own (DOM, JSX), then bundled.
ui: node_modules/.package-lock.json
	@echo "build: ui"
	@npx tsc -p ui/tsconfig.json
	@npx vite build --config ui/vite.config.ts

bpf: $(BPF_OBJ) $(BPF_TEST_OBJ)

$(BPF_OUT)/%.bpf.o: $(BPF_DIR)/%.bpf.c $(BPF_HDR)
	@mkdir -p $(BPF_OUT)
	@echo "build: bpf $<"
	@$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BPF_OUT)/test/%.bpf.o: $(BPF_DIR)/test/%.bpf.c
	@mkdir -p $(BPF_OUT)/test
	@echo "build: bpf $<"
	@$(CLANG) $(BPF_CFLAGS) -c $< -o $@

# Regenerate the TypeScript codecs from the objects' BTF (commit the result).
# The first tsc may fail (code already using new ABI names) but still emits gen-abi.js.
gen: bpf node_modules/.package-lock.json
	@npx tsc -p tsconfig.json >/dev/null || true
	@node dist/scripts/gen-abi.js --write $(BPF_OBJ)
	@npx tsc -p tsconfig.json

# Regenerate the API contracts' TypeScript from api/**/*.proto (commit the result).
api: node_modules/.package-lock.json
	@node scripts/gen-api.mjs --write

# Fail when the committed API types no longer match api/**/*.proto.
api-check: node_modules/.package-lock.json
	@node scripts/gen-api.mjs --check

# Fail on an import cycle between modules (scripts/import-cycles.mjs).
cycles-check:
	@node scripts/import-cycles.mjs >/dev/null

# Fail when the committed codecs no longer match the compiled ABI.
gen-check: bpf ts
	@node dist/scripts/gen-abi.js --check $(BPF_OBJ)

test: setup build test-unit test-privileged

test-unit:
	@node scripts/run-tests.mjs unit

test-privileged:
	@node scripts/run-tests.mjs privileged

demo: setup build
	@bash scripts/demo.sh

# Benchmarks: not tests; run by hand, results summarised in docs/performance.md.
bench-pod-network: setup build
	@node dist/bench/pod-network.js

bench-control-plane: setup build
	@node dist/bench/control-plane.js

bench-services: setup build
	@command -v gnuplot >/dev/null || apt-get install -y -q gnuplot-nox >/dev/null
	@node dist/bench/services.js

bench-policy: setup build
	@node dist/bench/policy.js

# The policy engine alone, from scratch vs incremental (pure: no root, no lab): under a minute.
bench-policy-engine: build
	@node dist/bench/policy-engine.js

# Per-packet cost in the kernel (BPF_PROG_TEST_RUN, no lab): a few minutes.
bench-datapath: setup build
	@node dist/bench/datapath.js

# The flow pipeline (events/s it delivers, losses counted exactly) and request rate with flow observation on vs off (issue 11): about 8 minutes.
# The web UI with 0, 10k and 100k flows (issue 14): page load and a filter, in headless Chromium; about 2 minutes.
bench-ui: setup build
	@flock /tmp/beeline-heavy.lock node dist/bench/ui.js

bench-observer: setup build
	@flock /tmp/beeline-heavy.lock node --max-semi-space-size=64 dist/bench/observer.js

# The L7 HTTP engine choice (issue 12): HAProxy vs a TypeScript proxy on node:http, load and probes, in a private network namespace: about 6 minutes (9 with --rounds 5).
bench-http-engine: setup build
	@flock /tmp/beeline-heavy.lock node dist/bench/http-engine.js

# L7 HTTP policy through the node proxy vs none, L4 and HAProxy as a plain reverse proxy (issue 12), in a 2-node lab: about 9 minutes.
bench-http-l7: setup build
	@flock /tmp/beeline-heavy.lock node dist/bench/http-l7.js

# DNS and Kafka through the node proxies (issue 13): DNS queries/s via the DNS proxy vs straight to kube-dns, answer → allowed time, 1,000 names × 10 rotating IPs vs the ipcache, Kafka produce via the Kafka proxy vs direct, in a 2-node lab: about 7 minutes.
bench-dns-kafka: setup build
	@flock /tmp/beeline-heavy.lock node dist/bench/dns-kafka.js

# Issue 15: the mesh's added latency (routed, mTLS) at 1,000 req/s over the kernel-only path, and sidecar vs per-node proxy memory.
bench-mesh: setup build
	@flock /tmp/beeline-heavy.lock node dist/bench/mesh.js

clean:
	rm -rf dist build
