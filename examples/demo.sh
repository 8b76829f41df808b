#!/usr/bin/env bash
# Runs the demo stack: example MCP server :8080 and, in front of it,
# `mcpgate run` (mcpgate and Envoy, listening on :10000). Ctrl-C stops all.
# Called by `make run` with the binaries built; ENVOY, if set, is the Envoy
# binary to use (else PATH, else the project's .venv).
set -euo pipefail
bin=${BIN:-bin}
if [[ -n "${ENVOY:-}" ]]; then PATH="$(dirname "$ENVOY"):$PATH"; fi
pids=()
cleanup() {
  trap - INT TERM EXIT
  echo; echo "stopping demo stack..."
  kill "${pids[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
  exit 0
}
trap cleanup INT TERM EXIT

wait_port() { # host port name
  for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "$3 did not start on $1:$2" >&2; exit 1
}

# Output goes through process substitution, not a pipe, so $! is the
# program itself and cleanup can stop it.
"$bin/example-server" --addr 127.0.0.1:8080 > >(sed 's/^/[server] /') 2>&1 & pids+=($!)
wait_port 127.0.0.1 8080 "example server"
"$bin/mcpgate" run --upstream http://127.0.0.1:8080/mcp --listen 127.0.0.1:10000 --config examples/policy.yaml -- --admin 127.0.0.1:9090 & pids+=($!)
wait_port 127.0.0.1 10000 "mcpgate run"

cat <<MSG

mcpgate demo is up (active mode, policy examples/policy.yaml):
  MCP endpoint (SSE):  http://127.0.0.1:10000/mcp
  MCP endpoint (JSON): http://127.0.0.1:10000/mcp-json
  Metrics:             http://127.0.0.1:9090/metrics (audit trail: the [mcpgate] lines with an event_id)
Try it from another terminal:
  go run ./examples/client -url http://127.0.0.1:10000/mcp echo delete_files fetch_page
(delete_files is outside the allowlist: hidden from tools/list, its call rejected;
 fetch_page returns a prompt injection: the result is replaced by a safety notice;
 tools are pinned on first sight in .mcpgate/pins: a later change hides the tool.)
Press Ctrl-C to stop.

MSG
wait -n "${pids[@]}" # any of them exiting ends the demo
