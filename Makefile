# Beeline: one entry point for set-up, build, test and demo.
#   make demo    install what is missing, build, run the demo
#   make test    install what is missing, build, run every test (unit + privileged)
SHELL := /bin/bash
.DEFAULT_GOAL := build

CLANG ?= clang
BPF_CFLAGS := -target bpf -O2 -g -Wall -Werror -Wno-unused-function \
	-D__TARGET_ARCH_x86 -I bpf/include -I /usr/include/x86_64-linux-gnu
BPF_SRC := $(wildcard bpf/*.bpf.c)
BPF_OBJ := $(patsubst bpf/%.bpf.c,build/bpf/%.bpf.o,$(BPF_SRC))
BPF_HDR := $(shell find bpf/include -name '*.h')

.PHONY: setup build bpf ts gen gen-check test test-unit test-privileged demo clean

setup:
	@bash scripts/setup.sh

build: ts bpf gen-check

ts: node_modules/.package-lock.json
	@echo "build: typescript"
	@npx tsc -p tsconfig.json

node_modules/.package-lock.json: package-lock.json
	@npm ci --no-audit --no-fund --loglevel=error
	@touch $@

bpf: $(BPF_OBJ)

build/bpf/%.bpf.o: bpf/%.bpf.c $(BPF_HDR)
	@mkdir -p build/bpf
	@echo "build: bpf $<"
	@$(CLANG) $(BPF_CFLAGS) -c $< -o $@

# Regenerate the TypeScript codecs from the objects' BTF (commit the result).
gen: bpf ts
	@node dist/scripts/gen-abi.js --write $(BPF_OBJ)
	@npx tsc -p tsconfig.json

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

clean:
	rm -rf dist build
