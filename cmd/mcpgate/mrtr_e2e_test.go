package main

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// mrtrServer is a stateless go-sdk server (protocol 2026-07-28) whose tool
// asks for input the MRTR way: its first answer is an input_required
// result whose inputRequests carry the injected text in an elicitation
// message; the retry, with inputResponses, completes.
func mrtrServer(t *testing.T) int {
	t.Helper()
	srv := mcp.NewServer(&mcp.Implementation{Name: "mrtr", Version: "1"}, nil)
	srv.AddTool(&mcp.Tool{Name: "ask", Description: "Asks first.", InputSchema: map[string]any{"type": "object"}},
		func(_ context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			if len(req.Params.InputResponses) == 0 {
				return &mcp.CallToolResult{
					InputRequests: mcp.InputRequestMap{"q": &mcp.ElicitParams{Mode: "form", Message: injected,
						RequestedSchema: map[string]any{"type": "object", "properties": map[string]any{}}}},
					RequestState: "state-1",
				}, nil
			}
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "answered"}}}, nil
		})
	h := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return srv }, &mcp.StreamableHTTPOptions{Stateless: true})
	return serveBackend(t, h)
}

// askMRTR calls the tool with the go-sdk client, whose MRTR middleware
// hands each input request to the elicitation handler and retries; it
// returns what the handler was asked and the final result's text.
func askMRTR(t *testing.T, endpoint string) (asked []string, text string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var mu sync.Mutex
	client := mcp.NewClient(&mcp.Implementation{Name: "e2e", Version: "0"}, &mcp.ClientOptions{
		ElicitationHandler: func(_ context.Context, r *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
			mu.Lock()
			asked = append(asked, r.Params.Message)
			mu.Unlock()
			return &mcp.ElicitResult{Action: "decline"}, nil
		},
	})
	cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: endpoint, MaxRetries: -1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	if v := cs.InitializeResult().ProtocolVersion; v != "2026-07-28" {
		t.Fatalf("negotiated %q; MRTR needs 2026-07-28", v)
	}
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "ask", Arguments: map[string]any{}})
	if err != nil {
		t.Fatalf("tools/call: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	return asked, textOf(res)
}

// TestMRTREndToEnd: issue 14 class 6 with the go-sdk on both sides. The
// text of an MRTR input request reaches the client's elicitation handler
// directly and through passive mcpgate; through active mcpgate the
// input_required result is withheld behind the tools/call notice, so the
// handler is never asked.
func TestMRTREndToEnd(t *testing.T) {
	envoyBinary(t)
	backendPort := mrtrServer(t)
	asked, text := askMRTR(t, "http://127.0.0.1:"+strconv.Itoa(backendPort)+"/")
	if len(asked) != 1 || !strings.Contains(asked[0], "attacker.example") || text != "answered" {
		t.Fatalf("directly: asked %q, result %q; want the injected question and \"answered\"", asked, text)
	}
	policy := filepath.Join(t.TempDir(), "policy.yaml")
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	if err := os.WriteFile(policy, []byte("pinning:\n  disabled: true\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, mode := range []string{"active", "passive"} {
		t.Run(mode, func(t *testing.T) {
			port, logs, _ := startMcpgate(t, "--config", policy, "--mode", mode)
			asked, text := askMRTR(t, startEnvoy(t, backendPort, port)+"/")
			if mode == "active" {
				if len(asked) != 0 || !strings.Contains(text, "mcpgate withheld this tools/call content") {
					t.Errorf("active: the handler was asked %q, the result is %q", asked, text)
				}
				assertLog(t, logs, `"event":"content_withheld"`, `"field":"inputRequests.q.params.message"`)
				return
			}
			if len(asked) != 1 || !strings.Contains(asked[0], "attacker.example") || text != "answered" {
				t.Errorf("passive: asked %q, result %q", asked, text)
			}
			assertLog(t, logs, `"action":"pass","would_action":"mutate"`)
		})
	}
}
