package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	auditlog "github.com/mcpgate/mcpgate/audit"
	"github.com/mcpgate/mcpgate/examples/mcpserver"
)

// headerLog records the credential headers each request brought the backend.
type headerLog struct {
	mu   sync.Mutex
	seen []string
}

func (h *headerLog) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		h.seen = append(h.seen, r.Header.Get("Authorization"))
		h.mu.Unlock()
		next.ServeHTTP(w, r)
	})
}

func (h *headerLog) all() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.seen)
}

// bearerTransport is an agent that sends a token with every request.
type bearerTransport struct{ token string }

func (b bearerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return http.DefaultTransport.RoundTrip(r)
}

// routePolicyYAML gives the bundled envoy.yaml's three routes different
// policies: "/" (default) enforces an allowlist, /observe/ only logs, and
// /strict/ requires an agent token and allows one tool.
func routePolicyYAML(strictTools, credFile string) string {
	sum := sha256.Sum256([]byte("agent-token"))
	return `mode: active
pinning: {disabled: true}
auth:
  tokens:
  - {name: e2e-agent, sha256: ` + hex.EncodeToString(sum[:]) + `, audiences: [strict]}
backends:
  default:
    allowed_tools: [echo, add, fetch_page, "stream_*"]
  observe:
    mode: passive
    allowed_tools: [echo]
  strict:
    allowed_tools: ` + strictTools + `
    withhold_severity: low
    auth:
      backend_credential: {file: ` + credFile + `}
`
}

// TestPerRouteEndToEnd proves through real Envoy that each route of the
// bundled envoy.yaml gets its own backend policy, that policy edits apply
// to new sessions without a restart while bad edits are refused, and that
// a route naming a backend the policy lost fails closed.
func TestPerRouteEndToEnd(t *testing.T) {
	envoyBinary(t)
	backend := mcpserver.NewBackend()
	var creds headerLog
	backendPort := serveBackend(t, creds.wrap(backend.Handler()))

	dir := t.TempDir()
	cred := filepath.Join(dir, "backend-token")
	policy := filepath.Join(dir, "policy.yaml")
	writeFile(t, cred, "backend-secret\n")
	writeFile(t, policy, routePolicyYAML("[echo]", cred))
	port, logs, _ := startMcpgate(t, "--config", policy, "--reload-interval", "50ms", "--drain-timeout", "1s")
	gw := startEnvoy(t, backendPort, port)
	defer func() {
		if t.Failed() {
			t.Logf("mcpgate log:\n%s", logs.String())
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	agent := &http.Client{Transport: bearerTransport{"agent-token"}}
	connect := func(path string, hc *http.Client) (*mcp.ClientSession, error) {
		return mcp.NewClient(&mcp.Implementation{Name: "e2e", Version: "0"}, nil).
			Connect(ctx, &mcp.StreamableClientTransport{Endpoint: gw + path, HTTPClient: hc, MaxRetries: -1}, nil)
	}
	callDelete := func(cs *mcp.ClientSession) (error, int) {
		before := backend.Calls("delete_files")
		_, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "delete_files", Arguments: map[string]any{"path": "/tmp/x"}})
		return err, backend.Calls("delete_files") - before
	}

	t.Run("default route enforces its allowlist", func(t *testing.T) {
		cs, err := connect(mcpserver.PathJSON, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer cs.Close()
		if got := toolNames(ctx, t, cs); !slices.Equal(got, []string{"add", "echo", "fetch_page", "stream_story"}) {
			t.Errorf("tools/list = %v", got)
		}
		if err, reached := callDelete(cs); err == nil || !strings.Contains(err.Error(), "(backend default)") || reached != 0 {
			t.Errorf("delete_files: %v, reached backend %d times", err, reached)
		}
	})
	t.Run("observe route only logs", func(t *testing.T) {
		cs, err := connect("/observe"+mcpserver.PathJSON, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer cs.Close()
		if got := toolNames(ctx, t, cs); len(got) != 5 {
			t.Errorf("tools/list = %v, want all 5 (passive)", got)
		}
		if err, reached := callDelete(cs); err != nil || reached != 1 {
			t.Errorf("delete_files: %v, reached backend %d times; want it passed", err, reached)
		}
		assertLog(t, logs, `"backend":"observe"`, `"action":"pass","would_action":"reject"`)
	})
	t.Run("strict route without a token", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, gw+"/strict"+mcpserver.PathJSON, strings.NewReader(listBody))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer wrong-token")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") != `Bearer realm="mcpgate", error="invalid_token"` {
			t.Errorf("status %d, WWW-Authenticate %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
		}
		if _, err := connect("/strict"+mcpserver.PathJSON, nil); err == nil || !strings.Contains(err.Error(), "Unauthorized") {
			t.Errorf("SDK client without a token connected: %v", err)
		}
	})
	before := len(creds.all())
	t.Run("strict route with a token", func(t *testing.T) {
		cs, err := connect("/strict"+mcpserver.PathJSON, agent)
		if err != nil {
			t.Fatal(err)
		}
		defer cs.Close()
		if got := toolNames(ctx, t, cs); !slices.Equal(got, []string{"echo"}) {
			t.Errorf("tools/list = %v, want [echo]", got)
		}
		seen := creds.all()[before:]
		if len(seen) == 0 {
			t.Fatal("no request reached the backend")
		}
		for _, h := range seen {
			if h != "Bearer backend-secret" {
				t.Errorf("backend got Authorization %q, want the backend credential (never the agent's token)", h)
			}
		}
	})

	reload := func(t *testing.T, text, wantLog string) {
		t.Helper()
		n := strings.Count(logs.String(), wantLog)
		writeFile(t, policy, text)
		for deadline := time.Now().Add(10 * time.Second); strings.Count(logs.String(), wantLog) == n; {
			if time.Now().After(deadline) {
				t.Fatalf("no %q in the log after the edit", wantLog)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	strictTools := func(t *testing.T) []string {
		cs, err := connect("/strict"+mcpserver.PathJSON, agent)
		if err != nil {
			t.Fatal(err)
		}
		defer cs.Close()
		return toolNames(ctx, t, cs)
	}
	t.Run("valid edit applies without restart", func(t *testing.T) {
		reload(t, routePolicyYAML("[echo, add]", cred), `"msg":"policy reloaded"`)
		if got := strictTools(t); !slices.Equal(got, []string{"add", "echo"}) {
			t.Errorf("tools/list after the edit = %v, want [add echo]", got)
		}
	})
	t.Run("rotated backend credential applies without restart", func(t *testing.T) {
		n := strings.Count(logs.String(), `"msg":"policy reloaded"`)
		writeFile(t, cred, "backend-secret-2\n")
		for deadline := time.Now().Add(10 * time.Second); strings.Count(logs.String(), `"msg":"policy reloaded"`) == n; time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("no reload after the credential file changed")
			}
		}
		from := len(creds.all())
		strictTools(t)
		for _, h := range creds.all()[from:] {
			if h != "Bearer backend-secret-2" {
				t.Errorf("backend got %q after the rotation, want the new credential", h)
			}
		}
	})
	t.Run("invalid edit keeps the last good policy", func(t *testing.T) {
		reload(t, routePolicyYAML("[echo, add]", cred)+"mode_typo: active\n", `"msg":"policy reload rejected; keeping the last good policy"`)
		assertLog(t, logs, `field mode_typo not found`)
		if got := strictTools(t); !slices.Equal(got, []string{"add", "echo"}) {
			t.Errorf("tools/list after the bad edit = %v, want [add echo]", got)
		}
	})
	t.Run("a dropped backend fails closed", func(t *testing.T) {
		text := strings.Replace(routePolicyYAML("[echo]", cred), "  observe:\n    mode: passive\n    allowed_tools: [echo]\n", "", 1)
		reload(t, text, `"msg":"policy reloaded"`)
		body := postRaw(t, gw+"/observe"+mcpserver.PathJSON, listBody, http.StatusInternalServerError)
		if !strings.Contains(body, `"code":-32603`) || !strings.Contains(body, `backend policy \"observe\"`) {
			t.Errorf("body %s", body)
		}
		assertLog(t, logs, `"event":"unknown_backend"`)
	})
}

func writeFile(t *testing.T, name, text string) {
	t.Helper()
	// Write and rename, as editors and Kubernetes do, so the watcher never
	// reads half a file.
	tmp := name + ".tmp"
	if err := os.WriteFile(tmp, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, name); err != nil {
		t.Fatal(err)
	}
}

// TestFilterEnabledPerRoute checks the Envoy behaviour that
// envoy/istio/envoyfilter.yaml relies on: an ext_proc filter that is
// disabled by default runs only on routes whose typed_per_filter_config
// carries an ExtProcPerRoute, so non-MCP routes never reach mcpgate.
func TestFilterEnabledPerRoute(t *testing.T) {
	envoyBinary(t)
	backend := mcpserver.NewBackend()
	backendPort := serveBackend(t, backend.Handler())
	policy := filepath.Join(t.TempDir(), "policy.yaml")
	writeFile(t, policy, "mode: active\npinning: {disabled: true}\nbackends:\n  default: {allowed_tools: [echo]}\n  strict: {allowed_tools: [echo]}\n  observe: {allowed_tools: [echo]}\n")
	port, _, _ := startMcpgate(t, "--config", policy)
	gw := startEnvoyEdited(t, backendPort, port, map[string]string{
		"          - name: envoy.filters.http.ext_proc\n": "          - name: envoy.filters.http.ext_proc\n            disabled: true\n",
	})
	call := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"delete_files","arguments":{"path":"/x"}}}`
	for _, tt := range []struct {
		prefix  string
		checked bool
	}{{"/strict", true}, {"/observe", true}, {"", false}} {
		before := backend.Calls("delete_files")
		body := postRaw(t, gw+tt.prefix+mcpserver.PathStateless, call, http.StatusOK)
		reached := backend.Calls("delete_files") - before
		if checked := strings.Contains(body, "not allowed by policy"); checked != tt.checked || reached != map[bool]int{true: 0, false: 1}[tt.checked] {
			t.Errorf("route %q: checked %v (want %v), backend reached %d: %s", tt.prefix+"/", checked, tt.checked, reached, auditlog.Truncate(body, 100))
		}
	}
}

// outcome is what an agent sees for one request: the status and body, or
// the transport error.
func outcome(resp *http.Response, err error) string {
	if err != nil {
		return "error: " + err.Error()
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Sprintf("%d, body cut: %v", resp.StatusCode, err)
	}
	return fmt.Sprintf("%d %s", resp.StatusCode, strings.TrimSpace(string(b)))
}
