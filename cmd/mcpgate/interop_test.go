package main

// interop_test.go is the interop matrix (issue 21): the official TS, Python
// and Go SDK clients × server-everything (Streamable HTTP and legacy SSE)
// the TS and Python SDK servers of interop/ and their Go SDK twin, each pair run directly and
// through `mcpgate run` in passive and active mode. What the client SDK
// hands the application must equal the direct run; in active mode it may
// differ only where the allowlist says: a tool outside it is absent from
// tools/list and calling it gets the gateway's error.

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"
)

// interopAllowed is the active gateway's allowlist: secret_admin and most
// of server-everything's tools are outside it.
var interopAllowed = []string{"echo", "get-sum"}

type interopServer struct {
	name     string
	kind     string // the client transport: "streamable" or "sse"
	resource string // the URI the script reads
	start    func(t *testing.T) string
}

func interopServers() []interopServer {
	const doc = "demo://resource/static/document/architecture.md"
	return []interopServer{
		{"everything-streamable", "streamable", doc, func(t *testing.T) string { return startEverything(t, "streamableHttp") + "/mcp" }},
		{"everything-sse", "sse", doc, func(t *testing.T) string { return startEverything(t, "sse") + "/sse" }},
		{"ts-server", "streamable", "interop://note", func(t *testing.T) string { u, _ := startSDKServer(t, "ts"); return u }},
		{"py-server", "streamable", "interop://note", func(t *testing.T) string { u, _ := startSDKServer(t, "py"); return u }},
		{"go-server", "streamable", "interop://note", func(t *testing.T) string { u, _ := startGoSDKServer(t); return u }},
	}
}

type interopClient struct {
	name string
	run  func(ctx context.Context, t testing.TB, kind, url, resource string) transcript
}

var interopClients = []interopClient{
	{"ts", func(ctx context.Context, t testing.TB, kind, url, resource string) transcript {
		return runScriptClient(ctx, t, "ts", kind, url, resource)
	}},
	{"py", func(ctx context.Context, t testing.TB, kind, url, resource string) transcript {
		return runScriptClient(ctx, t, "py", kind, url, resource)
	}},
	{"go", goClientTranscript},
}

func TestInterop(t *testing.T) {
	envoyBinary(t)
	start := time.Now()
	t.Cleanup(func() { t.Logf("interop matrix: %s", time.Since(start).Round(time.Second)) })
	for _, srv := range interopServers() {
		t.Run(srv.name, func(t *testing.T) {
			t.Parallel()
			upstream := srv.start(t)
			gateways := map[string]string{}
			for _, mode := range []string{"passive", "active"} {
				// A policy (and pin store) per gateway: pins are per backend
				// name, and every gateway's backend is "default".
				policy := interopPolicy(t, interopAllowed)
				gw, _ := startGateway(t, "--upstream", upstream, "--listen", "127.0.0.1:0", "--config", policy, "--mode", mode)
				gateways[mode] = gw
			}
			// What the SDKs agree on about one server, the gateway must
			// not make them disagree on; checked once every client ran.
			var mu sync.Mutex
			directs := map[string]transcript{}
			t.Cleanup(func() { sameAcrossSDKs(t, directs) })
			for _, c := range interopClients {
				t.Run(c.name, func(t *testing.T) {
					t.Parallel()
					ctx := context.Background()
					direct := c.run(ctx, t, srv.kind, upstream, srv.resource)
					checkDirect(t, direct)
					mu.Lock()
					directs[c.name] = direct
					mu.Unlock()
					t.Logf("%s direct run: protocol version %v", t.Name(), direct["server"].(map[string]any)["protocolVersion"])
					for _, mode := range []string{"passive", "active"} {
						t.Run(mode, func(t *testing.T) {
							want := direct
							if mode == "active" {
								want = activeExpectation(t, direct, interopAllowed)
							}
							got := c.run(ctx, t, srv.kind, gateways[mode], srv.resource)
							if w, g := canonical(t, want), canonical(t, got); w != g {
								t.Errorf("%s client through the %s gateway differs from the direct run\nwant: %s\ngot:  %s", c.name, mode, w, g)
							}
						})
					}
				})
			}
		})
	}
}

// checkDirect fails on a direct run that did not exercise the script, so
// a broken client cannot make every comparison trivially equal.
func checkDirect(t *testing.T, tr transcript) {
	t.Helper()
	if _, failed := tr["connect"]; failed {
		t.Fatalf("direct run did not connect: %v", tr["connect"])
	}
	tools, _ := tr["tools"].(map[string]any)
	items, _ := tools["items"].([]any)
	calls, _ := tr["calls"].([]any)
	read, _ := tr["read"].(map[string]any)
	if len(items) < 2 || len(calls) != len(interopCalls) || read["contents"] == nil {
		t.Fatalf("direct run incomplete: %s", canonical(t, tr))
	}
	echo, _ := calls[0].(map[string]any)
	if echo["result"] == nil {
		t.Fatalf("direct echo call failed: %v", echo)
	}
}

// sameAcrossSDKs: the three SDKs' direct runs against one server list the
// same tools, prompts and resources and read the same resource text.
func sameAcrossSDKs(t *testing.T, directs map[string]transcript) {
	t.Helper()
	views := map[string]string{}
	for name, tr := range directs {
		views[name] = canonical(t, map[string]any{
			"tools": toolsWithout(tr["tools"], capabilityGated), "prompts": tr["prompts"], "resources": tr["resources"], "read": tr["read"],
		})
	}
	names := slices.Sorted(maps.Keys(views))
	if len(names) < 2 {
		return
	}
	for _, name := range names[1:] {
		if views[name] != views[names[0]] {
			t.Errorf("the %s and %s SDK clients saw different listings directly\n%s: %s\n%s: %s",
				names[0], name, names[0], views[names[0]], name, views[name])
		}
	}
}

// capabilityGated are tools server-everything lists only to clients that
// declare a capability (the Go SDK client declares roots by default).
var capabilityGated = []string{"get-roots-list"}

// toolsWithout is a transcript's tools entry without the named tools.
func toolsWithout(tools any, names []string) any {
	m, ok := tools.(map[string]any)
	if !ok {
		return tools
	}
	items, _ := m["items"].([]any)
	var kept []any
	for _, it := range items {
		if name, _ := it.(map[string]any)["name"].(string); !slices.Contains(names, name) {
			kept = append(kept, it)
		}
	}
	return map[string]any{"items": kept}
}

// activeExpectation is the direct transcript as the allowlist changes it.
func activeExpectation(t *testing.T, direct transcript, allowed []string) transcript {
	t.Helper()
	want := roundTrip(t, direct)
	if tools, ok := want["tools"].(map[string]any); ok {
		if items, ok := tools["items"].([]any); ok {
			tools["items"] = slices.DeleteFunc(items, func(it any) bool {
				name, _ := it.(map[string]any)["name"].(string)
				return !slices.Contains(allowed, name)
			})
		}
	}
	calls, _ := want["calls"].([]any)
	for i, c := range calls {
		tool, _ := c.(map[string]any)["tool"].(string)
		if !slices.Contains(allowed, tool) {
			calls[i] = map[string]any{"tool": tool, "error": map[string]any{
				"code":    float64(-32001),
				"message": fmt.Sprintf("mcpgate: tool %q is not allowed by policy tool_allowlist (backend default)", tool),
			}}
		}
	}
	return want
}

// interopPolicy writes the gateways' policy: the allowlist (active mode
// enforces it) and a pin store in the test's temporary directory.
func interopPolicy(t *testing.T, allowed []string) string {
	t.Helper()
	dir := t.TempDir()
	list, _ := json.Marshal(allowed)
	policy := filepath.Join(dir, "policy.yaml")
	text := fmt.Sprintf("pinning:\n  store: %s\nbackends:\n  default:\n    allowed_tools: %s\n", filepath.Join(dir, "pins"), list)
	if err := os.WriteFile(policy, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return policy
}

func canonical(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
