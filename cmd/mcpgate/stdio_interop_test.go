package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// The stdio column of the interop matrix: three SDK clients (Go in
// process; TypeScript and Python as the scripts in testdata/stdio-interop,
// from the pinned installs `make interop` puts in .cache/interop-ts and
// .cache/interop-py) run one fixed script against server-everything's
// stdio mode, directly over stdio and through `mcpgate run -- node …
// stdio` over Streamable HTTP, in passive and active mode. What each
// client sees through the gateway must equal what it sees running the
// server itself; active differs only where its policy says: the allowlist
// leaves echo and get-sum, and get-tiny-image is refused.

const (
	stdioInteropTS     = "../../.cache/interop-ts/node_modules"
	stdioInteropPython = "../../.cache/interop-py/bin/python"
)

var stdioInteropAllowed = []string{"echo", "get-sum"}

// stdioInteropView is what the script saw, as the clients print it.
type stdioInteropView map[string]any

// stdioInteropClient runs the script with one SDK; kind is streamable or
// stdio, and target the URL or the command line.
type stdioInteropClient struct {
	name string
	run  func(ctx context.Context, t *testing.T, kind string, target []string) stdioInteropView
}

func stdioInteropClients(t *testing.T) []stdioInteropClient {
	t.Helper()
	node, nodeErr := exec.LookPath("node")
	ts, _ := filepath.Abs(stdioInteropTS)
	py, _ := filepath.Abs(stdioInteropPython)
	for _, need := range []struct{ what, path string }{{"TypeScript SDK", ts}, {"Python mcp", py}} {
		err := nodeErr
		if err == nil {
			_, err = os.Stat(need.path)
		}
		if err != nil {
			// Skips even in CI: `make interop` (which installs both) comes
			// with the interop matrix's branch, not this file's.
			t.Skip(fmt.Sprintf("%s client not installed (%v): run `make interop` (needs node, npm and python3)", need.what, err))
		}
	}
	script := func(name string) string {
		p, _ := filepath.Abs(filepath.Join("testdata", "stdio-interop", name))
		return p
	}
	external := func(env []string, argv ...string) func(context.Context, *testing.T, string, []string) stdioInteropView {
		return func(ctx context.Context, t *testing.T, kind string, target []string) stdioInteropView {
			t.Helper()
			ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, argv[0], append(append(argv[1:], kind), target...)...)
			cmd.Env = append(os.Environ(), env...)
			var stderr syncBuffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("%s %s %v: %v\n%s", filepath.Base(argv[len(argv)-1]), kind, target, err, stderr.String())
			}
			var v stdioInteropView
			if err := json.Unmarshal(out, &v); err != nil {
				t.Fatalf("client printed %q: %v", out, err)
			}
			return v
		}
	}
	return []stdioInteropClient{
		{"go", goStdioInteropClient},
		{"typescript", external([]string{"NODE_PATH=" + ts}, node, script("client.cjs"))},
		{"python", external(nil, py, script("client.py"))},
	}
}

// goStdioInteropClient is the script with the Go SDK, in this process.
func goStdioInteropClient(ctx context.Context, t *testing.T, kind string, target []string) stdioInteropView {
	t.Helper()
	var tr mcp.Transport
	switch kind {
	case "streamable":
		tr = &mcp.StreamableClientTransport{Endpoint: target[0], MaxRetries: -1}
	case "stdio":
		tr = &mcp.CommandTransport{Command: exec.Command(target[0], target[1:]...)}
	}
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "interop-go", Version: "0"}, nil).Connect(ctx, tr, nil)
	if err != nil {
		t.Fatalf("go client %s %v: %v", kind, target, err)
	}
	defer cs.Close()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("go client %s: %v", kind, err)
		}
	}
	text := func(cs []mcp.Content) string {
		var b strings.Builder
		for _, c := range cs {
			if tc, ok := c.(*mcp.TextContent); ok {
				b.WriteString(tc.Text)
			}
		}
		return b.String()
	}
	call := func(name string, args map[string]any) *mcp.CallToolResult {
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: args})
		must(err)
		return res
	}
	v := stdioInteropView{"server": cs.InitializeResult().ServerInfo.Name}
	v["tools"] = toolNames(ctx, t, cs)
	prompts, err := cs.ListPrompts(ctx, nil)
	must(err)
	var names []string
	for _, p := range prompts.Prompts {
		names = append(names, p.Name)
	}
	sort.Strings(names)
	v["prompts"] = names
	res, err := cs.ListResources(ctx, nil)
	must(err)
	names = nil
	for _, r := range res.Resources {
		names = append(names, r.Name)
	}
	sort.Strings(names)
	v["resources"] = names
	v["echo"] = text(call("echo", map[string]any{"message": "interop"}).Content)
	v["sum"] = text(call("get-sum", map[string]any{"a": 2, "b": 3}).Content)
	p, err := cs.GetPrompt(ctx, &mcp.GetPromptParams{Name: "simple-prompt"})
	must(err)
	v["prompt"] = text([]mcp.Content{p.Messages[0].Content})
	first := slices.MinFunc(res.Resources, func(a, b *mcp.Resource) int { return strings.Compare(a.Name, b.Name) })
	read, err := cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: first.URI})
	must(err)
	body := read.Contents[0].Text
	if r := []rune(body); len(r) > 60 { // the scripts cut at 60 code points (Python) or UTF-16 units (JS): ASCII here
		body = string(r[:60])
	}
	v["resource"] = body
	v["denied"] = "ok"
	dctx, dcancel := context.WithTimeout(ctx, 3*time.Second) // as the other scripts: 3 s to answer
	defer dcancel()
	if res, err := cs.CallTool(dctx, &mcp.CallToolParams{Name: "get-tiny-image", Arguments: map[string]any{}}); errors.Is(err, context.DeadlineExceeded) {
		v["denied"] = "timeout"
	} else if err != nil || res.IsError {
		v["denied"] = "error"
	}
	// Through JSON, as the other clients print it.
	b, _ := json.Marshal(v)
	var out stdioInteropView
	must(json.Unmarshal(b, &out))
	return out
}

func TestStdioInterop(t *testing.T) {
	envoyBinary(t)
	clients := stdioInteropClients(t)
	script, _ := filepath.Abs(everythingScript)
	node, err := exec.LookPath("node")
	if err == nil {
		_, err = os.Stat(script)
	}
	if err != nil {
		t.Skipf("server-everything not runnable (%v): run `make server-everything`", err)
	}
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	policy := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(policy, []byte("backends:\n  default:\n    allowed_tools: ["+strings.Join(stdioInteropAllowed, ", ")+"]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	server := []string{node, script, "stdio"}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	want := map[string]stdioInteropView{}
	for _, c := range clients {
		want[c.name] = c.run(ctx, t, "stdio", server)
		if want[c.name]["server"] != "mcp-servers/everything" || want[c.name]["sum"] != "The sum of 2 and 3 is 5." || want[c.name]["denied"] != "ok" {
			t.Fatalf("%s client over stdio: %v", c.name, want[c.name])
		}
	}
	for _, mode := range []string{"passive", "active"} {
		t.Run(mode, func(t *testing.T) {
			gw, stop := startGateway(t, append([]string{"--listen", "127.0.0.1:0", "--config", policy, "--mode", mode, "--"}, server...)...)
			for _, c := range clients {
				got := c.run(ctx, t, "streamable", []string{gw})
				expect := maps.Clone(want[c.name])
				if mode == "active" {
					expect["tools"] = stdioInteropAny(stdioInteropAllowed)
					expect["denied"] = "error"
				}
				if !reflect.DeepEqual(got, expect) {
					t.Errorf("%s client through the %s gateway:\n%v\nwant (direct stdio run)\n%v", c.name, mode, got, expect)
				}
			}
			if code, logs := stop(); code != 0 || !strings.Contains(logs, "[node] Starting default (STDIO) server") {
				t.Errorf("gateway exit %d, want 0 and the server's stderr prefixed [node]:\n%s", code, logs)
			}
		})
	}
}

func stdioInteropAny(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}
