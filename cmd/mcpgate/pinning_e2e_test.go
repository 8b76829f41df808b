package main

import (
	"context"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpgate/mcpgate/examples/mcpserver"
)

// TestPinningEndToEnd drives a rug pull through real Envoy: replica 1 pins
// the example server's tools on first sight, the server then changes the
// add tool, and both replica 1 (which saw the change happen) and, after
// replica 1 stops, replica 2 (a fresh process on the same pin store, as
// after a restart) must notice.
func TestPinningEndToEnd(t *testing.T) {
	envoyBinary(t)
	for _, mode := range []string{"active", "passive"} {
		t.Run(mode, func(t *testing.T) {
			active := mode == "active"
			backend := mcpserver.NewBackend()
			backend.RugPullAfter(2)
			srv := httptest.NewServer(backend.Handler())
			// Cleanups run last-in first-out: the client sessions and Envoy,
			// registered later, close before the server waits for them.
			t.Cleanup(srv.Close)
			u, _ := url.Parse(srv.URL)
			backendPort, _ := strconv.Atoi(u.Port())

			policy := filepath.Join(t.TempDir(), "policy.yaml")
			store := t.TempDir()
			if err := os.WriteFile(policy, []byte("pinning:\n  store: "+store+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			// A short drain: the client's GET stream keeps one ext_proc stream open.
			port1, logs1, stop1 := startMcpgate(t, "--config", policy, "--mode", mode, "--drain-timeout", "1s")
			gw1 := startEnvoy(t, backendPort, port1)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()

			cs1 := connectSDK(ctx, t, gw1+mcpserver.PathSSE)
			if got := toolNames(ctx, t, cs1); len(got) != 5 {
				t.Fatalf("first tools/list: %v", got)
			}
			for range 2 { // the second call triggers the rug pull
				if _, err := cs1.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"text": "x"}}); err != nil {
					t.Fatal(err)
				}
			}
			checkDrift(ctx, t, cs1, backend, active)
			cs1.Close()
			stop1()

			// A restarted replica with the same store has never seen this
			// server in its lifetime, yet knows its pin.
			port2, logs2, _ := startMcpgate(t, "--config", policy, "--mode", mode)
			gw2 := startEnvoy(t, backendPort, port2)
			cs2 := connectSDK(ctx, t, gw2+mcpserver.PathSSE)
			checkDrift(ctx, t, cs2, backend, active)

			for _, logs := range []*syncBuffer{logs1, logs2} {
				assertLog(t, logs, `"event":"pin_changes"`, `"kind":"description_changed"`, `"kind":"schema_widened"`)
				if active {
					assertLog(t, logs, `"drifted_tools":["add"]`, `"event":"tool_drifted"`)
				} else {
					assertLog(t, logs, `"action":"pass","would_action":"mutate"`, `"action":"pass","would_action":"reject"`)
				}
			}
			if t.Failed() {
				t.Logf("replica 1 log:\n%s\nreplica 2 log:\n%s", logs1.String(), logs2.String())
			}
		})
	}
}

// checkDrift lists tools after the rug pull and calls the changed tool.
func checkDrift(ctx context.Context, t *testing.T, cs *mcp.ClientSession, backend *mcpserver.Backend, active bool) {
	t.Helper()
	names := toolNames(ctx, t, cs)
	if slices.Contains(names, "add") == active {
		t.Errorf("tools/list after the rug pull: %v (active=%v)", names, active)
	}
	before := backend.Calls("add")
	_, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "add", Arguments: map[string]any{"a": 1, "b": 2, "note": "n"}})
	if active {
		if err == nil || !strings.Contains(err.Error(), `tool "add" changed since it was pinned`) || backend.Calls("add") != before {
			t.Errorf("call to the changed tool: %v (backend calls %d→%d)", err, before, backend.Calls("add"))
		}
	} else if err != nil {
		t.Errorf("passive call to the changed tool: %v", err)
	}
}

func connectSDK(ctx context.Context, t *testing.T, endpoint string) *mcp.ClientSession {
	t.Helper()
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "e2e", Version: "0"}, nil).
		Connect(ctx, &mcp.StreamableClientTransport{Endpoint: endpoint, MaxRetries: -1}, nil)
	if err != nil {
		t.Fatalf("connect %s: %v", endpoint, err)
	}
	t.Cleanup(func() { cs.Close() })
	return cs
}

func toolNames(ctx context.Context, t *testing.T, cs *mcp.ClientSession) []string {
	t.Helper()
	res, err := cs.ListTools(ctx, nil)
	if err != nil {
		t.Fatalf("tools/list: %v", err)
	}
	var names []string
	for _, tool := range res.Tools {
		names = append(names, tool.Name)
	}
	slices.Sort(names)
	return names
}
