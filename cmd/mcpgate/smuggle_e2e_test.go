package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// smuggleServer is the official Go SDK server with an allowed tool and a
// denied one whose handler counts its runs.
func smuggleServer(t *testing.T, deniedRuns *atomic.Int32) int {
	t.Helper()
	srv := mcp.NewServer(&mcp.Implementation{Name: "smuggle", Version: "1"}, nil)
	type args struct {
		Path string `json:"path,omitempty"`
	}
	mcp.AddTool(srv, &mcp.Tool{Name: "echo", Description: "Echo."}, func(context.Context, *mcp.CallToolRequest, args) (*mcp.CallToolResult, any, error) {
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "echo ran"}}}, nil, nil
	})
	mcp.AddTool(srv, &mcp.Tool{Name: "delete_files", Description: "Deletes files."}, func(context.Context, *mcp.CallToolRequest, args) (*mcp.CallToolResult, any, error) {
		deniedRuns.Add(1)
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "deleted"}}}, nil, nil
	})
	h := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return srv },
		&mcp.StreamableHTTPOptions{Stateless: true, JSONResponse: true})
	return serveBackend(t, h)
}

// smuggle posts a tools/call of the denied tool that also carries a
// result member: the Go SDK server reads it as the request it is.
func smuggle(t *testing.T, u, extra string) (int, string) {
	t.Helper()
	body := `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"delete_files","arguments":{"path":"/"}},` + extra + `}`
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Mcp-Protocol-Version", "2025-11-25")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestSmuggledCallEndToEnd: issue 14 class 1 through real Envoy in front of
// the real Go SDK server. A denied tools/call carrying "result" or
// "error" runs the tool on the bare server; active mcpgate refuses it
// (400, -32600) and the handler never runs; passive mcpgate lets it
// through and logs that active mode would have refused it.
func TestSmuggledCallEndToEnd(t *testing.T) {
	envoyBinary(t)
	var runs atomic.Int32
	backendPort := smuggleServer(t, &runs)
	extras := []string{`"result":{}`, `"result":null`, `"error":{"code":-32000,"message":"x"}`}

	// The harm, without the gateway: the SDK executes the denied tool.
	bare := "http://127.0.0.1:" + strconv.Itoa(backendPort) + "/"
	for _, extra := range extras {
		before := runs.Load()
		if status, body := smuggle(t, bare, extra); status != http.StatusOK || runs.Load() != before+1 {
			t.Fatalf("bare SDK server with %s: status %d %s, handler runs %d→%d; the smuggle no longer reaches the handler",
				extra, status, body, before, runs.Load())
		}
	}

	policy := filepath.Join(t.TempDir(), "policy.yaml")
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	if err := os.WriteFile(policy, []byte("pinning:\n  disabled: true\nbackends:\n  default:\n    allowed_tools: [echo]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, mode := range []string{"active", "passive"} {
		t.Run(mode, func(t *testing.T) {
			port, logs, _ := startMcpgate(t, "--config", policy, "--mode", mode)
			gw := startEnvoy(t, backendPort, port) + "/"
			for _, extra := range extras {
				before := runs.Load()
				status, body := smuggle(t, gw, extra)
				ran := runs.Load() - before
				if mode == "active" {
					if status != http.StatusBadRequest || !strings.Contains(body, `"code":-32600`) || ran != 0 {
						t.Errorf("active, %s: status %d %s, handler ran %d times; want 400 -32600 and no run", extra, status, body, ran)
					}
					continue
				}
				if status != http.StatusOK || ran != 1 {
					t.Errorf("passive, %s: status %d %s, handler ran %d times; want it passed", extra, status, body, ran)
				}
			}
			want := `"action":"reject"`
			if mode == "passive" {
				want = `"action":"pass","would_action":"reject"`
			}
			assertLog(t, logs, `"event":"bad_request"`, want, "both a method and a result or error")
		})
	}
}
