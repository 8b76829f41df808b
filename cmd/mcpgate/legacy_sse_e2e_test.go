package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// TestLegacySSEThroughGateway runs the Go SDK's 2024-11-05 HTTP+SSE client
// against its SSE server handler through Envoy and mcpgate: the endpoint
// event (a URL, not JSON) must reach the client, the message POSTs and
// the answers on the SSE stream are judged, and a denied tool is refused
// in active mode (the server never runs it; the client gets the gateway's
// error on the stream and keeps its session) and runs in passive mode.
func TestLegacySSEThroughGateway(t *testing.T) {
	envoyBinary(t)
	var deleted atomic.Int32
	server := mcp.NewServer(&mcp.Implementation{Name: "legacy-sse", Version: "0"}, nil)
	mcp.AddTool(server, &mcp.Tool{Name: "echo", Description: "Echo the text.", InputSchema: map[string]any{"type": "object"}},
		func(_ context.Context, _ *mcp.CallToolRequest, args map[string]any) (*mcp.CallToolResult, any, error) {
			text, _ := args["text"].(string)
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "echo: " + text}}}, nil, nil
		})
	mcp.AddTool(server, &mcp.Tool{Name: "delete_files", Description: "Delete files.", InputSchema: map[string]any{"type": "object"}},
		func(context.Context, *mcp.CallToolRequest, map[string]any) (*mcp.CallToolResult, any, error) {
			deleted.Add(1)
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "deleted"}}}, nil, nil
		})
	backendPort := serveBackend(t, mcp.NewSSEHandler(func(*http.Request) *mcp.Server { return server }, nil))
	policy := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(policy, []byte("pinning:\n  disabled: true\nbackends:\n  default:\n    allowed_tools: [echo]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, mode := range []string{"active", "passive"} {
		t.Run(mode, func(t *testing.T) {
			port, logs, _ := startMcpgate(t, "--config", policy, "--mode", mode)
			gw := startEnvoy(t, backendPort, port)
			defer func() {
				if t.Failed() {
					t.Logf("mcpgate log:\n%s", logs.String())
				}
			}()
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			client := mcp.NewClient(&mcp.Implementation{Name: "legacy-client", Version: "0"}, nil)
			cs, err := client.Connect(ctx, &mcp.SSEClientTransport{Endpoint: gw + "/sse"}, nil)
			if err != nil {
				t.Fatalf("connect over legacy SSE: %v", err)
			}
			defer cs.Close()
			list, err := cs.ListTools(ctx, nil)
			if err != nil {
				t.Fatalf("tools/list: %v", err)
			}
			var names []string
			for _, tool := range list.Tools {
				names = append(names, tool.Name)
			}
			want := "delete_files,echo" // the SDK lists tools sorted
			if mode == "active" {
				want = "echo"
			}
			if got := strings.Join(names, ","); got != want {
				t.Errorf("tools %s, want %s", got, want)
			}
			res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"text": "hi"}})
			if err != nil || textOf(res) != "echo: hi" {
				t.Fatalf("echo: %v %v", textOf(res), err)
			}
			before := deleted.Load()
			_, err = cs.CallTool(ctx, &mcp.CallToolParams{Name: "delete_files", Arguments: map[string]any{}})
			ran := deleted.Load() > before
			if mode == "active" {
				if err == nil || ran || ctx.Err() != nil {
					t.Fatalf("denied tool over SSE: err %v, ran %v, timed out %v", err, ran, ctx.Err() != nil)
				}
				// The refusal arrives on the SSE stream as the gateway's
				// error, not as a failed POST, and the session lives on.
				var wire *jsonrpc.Error
				if !errors.As(err, &wire) || wire.Code != -32001 || !strings.Contains(wire.Message, `tool "delete_files" is not allowed`) {
					t.Fatalf("denied tool over SSE: %v, want the gateway's -32001 error", err)
				}
				if res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"text": "after"}}); err != nil || textOf(res) != "echo: after" {
					t.Fatalf("echo after the refusal: %v %v", textOf(res), err)
				}
				assertLog(t, logs, `"event":"tool_not_allowed"`, `"event":"tools_filtered"`)
				if strings.Contains(logs.String(), `"event":"malformed_response"`) {
					t.Error("the endpoint event was judged as a malformed message")
				}
			} else if err != nil || !ran {
				t.Fatalf("passive: delete_files err %v, ran %v", err, ran)
			}
		})
	}
}

// TestLegacySSERefusalSDKClients runs the TS, Python and Go SDK clients
// against the TS and Python SDKs' HTTP+SSE servers through an active
// gateway whose allowlist leaves out secret_admin: each client gets the
// gateway's -32001 for it on the SSE stream, finishes its script (the
// later read works), and the server never runs the tool. The Go SDK's
// server is TestLegacySSEThroughGateway's.
func TestLegacySSERefusalSDKClients(t *testing.T) {
	envoyBinary(t)
	for _, sdk := range []string{"ts", "py"} {
		t.Run(sdk+"-server", func(t *testing.T) {
			t.Parallel()
			legacyRefusalClients(t, sdk)
		})
	}
}

func legacyRefusalClients(t *testing.T, sdk string) {
	upstream, execLog := startSDKServerOn(t, sdk, "sse")
	gw, _ := startGateway(t, "--upstream", upstream, "--listen", "127.0.0.1:0", "--config", interopPolicy(t, []string{"echo"}), "--mode", "active")
	for _, c := range interopClients {
		t.Run(c.name, func(t *testing.T) {
			tr := c.run(context.Background(), t, "sse", gw, "interop://note")
			if _, failed := tr["connect"]; failed {
				t.Fatalf("connect: %v", tr["connect"])
			}
			byTool := map[string]map[string]any{}
			calls, _ := tr["calls"].([]any)
			for _, c := range calls {
				m, _ := c.(map[string]any)
				tool, _ := m["tool"].(string)
				byTool[tool] = m
			}
			if byTool["echo"]["result"] == nil {
				t.Errorf("echo: %v", byTool["echo"])
			}
			e, _ := byTool["secret_admin"]["error"].(map[string]any)
			if code, _ := e["code"].(float64); code != -32001 || !strings.Contains(fmt.Sprint(e["message"]), `"secret_admin" is not allowed`) {
				t.Errorf("secret_admin: %v, want the gateway's -32001", byTool["secret_admin"])
			}
			if read, _ := tr["read"].(map[string]any); read["contents"] == nil {
				t.Errorf("read after the refusal: %v", tr["read"])
			}
			if n := executions(t, execLog, "secret_admin"); n != 0 {
				t.Fatalf("secret_admin ran %d times", n)
			}
			if executions(t, execLog, "echo") == 0 {
				t.Error("echo never ran: the log does not show executions")
			}
		})
	}
}
