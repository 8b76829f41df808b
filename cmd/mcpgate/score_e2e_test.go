package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpgate/mcpgate/examples/mcpserver"
)

// TestMinScoreEndToEnd puts the poisoned example server behind real Envoy
// and mcpgate with min_score 70: active mode grades it from the
// tools/list it sees and then refuses its tools (the backend never gets
// the call); passive mode lets everything through and logs would_reject.
func TestMinScoreEndToEnd(t *testing.T) {
	envoyBinary(t)
	for _, mode := range []string{"active", "passive"} {
		t.Run(mode, func(t *testing.T) {
			active := mode == "active"
			var calls atomic.Int32
			h := mcpserver.Handler(mcpserver.NewPoisonedServer())
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				if bytes.Contains(body, []byte(`"tools/call"`)) {
					calls.Add(1)
				}
				r.Body = io.NopCloser(bytes.NewReader(body))
				h.ServeHTTP(w, r)
			}))
			t.Cleanup(srv.Close)
			u, _ := url.Parse(srv.URL)
			backendPort, _ := strconv.Atoi(u.Port())

			policy := filepath.Join(t.TempDir(), "policy.yaml")
			cfg := "min_score: 70\npinning:\n  store: " + t.TempDir() + "\n"
			if err := os.WriteFile(policy, []byte(cfg), 0o600); err != nil {
				t.Fatal(err)
			}
			port, logs, _ := startMcpgate(t, "--config", policy, "--mode", mode, "--drain-timeout", "1s")
			gw := startEnvoy(t, backendPort, port)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()

			// The handshake passes in both modes, so a client can learn why.
			cs := connectSDK(ctx, t, gw+mcpserver.PathSSE)
			_, listErr := cs.ListTools(ctx, nil)
			_, callErr := cs.CallTool(ctx, &mcp.CallToolParams{Name: "search_issues", Arguments: map[string]any{"query": "x"}})
			if active {
				for what, err := range map[string]error{"tools/list": listErr, "tools/call": callErr} {
					if err == nil || !strings.Contains(err.Error(), "(grade F), below min_score 70") ||
						!strings.Contains(err.Error(), "top finding:") {
						t.Errorf("%s: %v, want the min_score error naming the score and top finding", what, err)
					}
				}
				if n := calls.Load(); n != 0 {
					t.Errorf("backend got %d tools/call requests in active mode", n)
				}
				assertLog(t, logs, `"msg":"mcpgate score"`, `"event":"score_below_minimum"`, `"action":"reject"`)
			} else {
				if listErr != nil || callErr != nil {
					t.Errorf("passive mode refused: list %v, call %v", listErr, callErr)
				}
				if calls.Load() != 1 {
					t.Errorf("backend got %d tools/call requests, want 1", calls.Load())
				}
				assertLog(t, logs, `"msg":"mcpgate score"`, `"event":"score_below_minimum"`, `"action":"pass","would_action":"reject"`)
			}
			if t.Failed() {
				t.Logf("mcpgate log:\n%s", logs.String())
			}
		})
	}
}
