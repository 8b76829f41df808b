package main

// interop_sdk_test.go owns the interop matrix's access to the official
// SDKs: finding the pinned TypeScript SDK and Python mcp that `make
// interop` installs into .cache/, running their client scripts
// (interop/ts/client.mjs, interop/py/client.py) and the Go SDK client that
// produces the same transcript, and starting the SDK servers of interop/.

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

const (
	interopTSSDK   = "../../.cache/interop-ts/node_modules/@modelcontextprotocol/sdk/package.json"
	interopPython  = "../../.cache/interop-py/bin/python"
	interopScripts = "../../interop"
)

// interopCalls are the tool calls every client script makes, in order.
var interopCalls = []struct {
	tool string
	args map[string]any
}{
	{"echo", map[string]any{"message": "hello interop"}},
	{"get-sum", map[string]any{"a": 2, "b": 3}},
	{"secret_admin", map[string]any{}},
}

// interopMissing skips (or in CI fails) a test whose SDK is not installed.
func interopMissing(t testing.TB, what string, err error) {
	t.Helper()
	msg := fmt.Sprintf("%s not runnable (%v): run `make interop` (needs node/npm and python3)", what, err)
	switch {
	case os.Getenv("MCPGATE_SKIP_INTEROP") == "1":
		t.Skip("MCPGATE_SKIP_INTEROP=1: " + msg)
	case os.Getenv("CI") != "":
		t.Fatal(msg + " (or set MCPGATE_SKIP_INTEROP=1)")
	}
	t.Skip(msg)
}

// sdkCommand returns the interpreter and script of one SDK's program in
// interop/ ("ts" or "py", "client.mjs" or "server.py"…), skipping the test
// if that SDK is not installed.
func sdkCommand(t testing.TB, sdk, script string) (string, string) {
	t.Helper()
	path, _ := filepath.Abs(filepath.Join(interopScripts, sdk, script))
	switch sdk {
	case "ts":
		node, err := exec.LookPath("node")
		if err == nil {
			_, err = os.Stat(interopTSSDK)
		}
		if err != nil {
			interopMissing(t, "the TypeScript SDK", err)
		}
		return node, path
	case "py":
		py, _ := filepath.Abs(interopPython)
		if _, err := os.Stat(py); err != nil {
			interopMissing(t, "the Python mcp SDK", err)
		}
		return py, path
	}
	t.Fatalf("unknown SDK %q", sdk)
	return "", ""
}

// transcript is what a client SDK handed to the application, as JSON
// decoded into maps, so transcripts of the three SDKs compare alike.
type transcript = map[string]any

// runScriptClient runs interop/<sdk>/client.* and decodes its transcript.
func runScriptClient(ctx context.Context, t testing.TB, sdk, kind, url, resource string) transcript {
	t.Helper()
	script := map[string]string{"ts": "client.mjs", "py": "client.py"}[sdk]
	bin, path := sdkCommand(t, sdk, script)
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, path, kind, url, resource)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s client %s %s: %v\nstderr:\n%s", sdk, kind, url, err, stderr.String())
	}
	var tr transcript
	if err := json.Unmarshal(stdout.Bytes(), &tr); err != nil {
		t.Fatalf("%s client printed no transcript (%v):\nstdout: %s\nstderr: %s", sdk, err, stdout.String(), stderr.String())
	}
	return tr
}

// goClientTranscript runs the same script as the client scripts with the
// Go SDK from go.mod and returns the transcript in their shape.
func goClientTranscript(ctx context.Context, t testing.TB, kind, url, resource string) transcript {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	var transport mcp.Transport = &mcp.StreamableClientTransport{Endpoint: url, MaxRetries: -1}
	if kind == "sse" {
		transport = &mcp.SSEClientTransport{Endpoint: url}
	}
	out := map[string]any{}
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "interop-go", Version: "0"}, nil).Connect(ctx, transport, nil)
	if err != nil {
		out["connect"] = goRPCError(err)
		return roundTrip(t, out)
	}
	defer cs.Close()
	init := cs.InitializeResult()
	out["server"] = map[string]any{"name": init.ServerInfo.Name, "version": init.ServerInfo.Version, "protocolVersion": init.ProtocolVersion}

	type named struct {
		Name        string `json:"name"`
		Description string `json:"description"`
	}
	byName := func(a, b named) int { return strings.Compare(a.Name, b.Name) }
	if res, err := cs.ListTools(ctx, nil); err != nil {
		out["tools"] = map[string]any{"error": goRPCError(err)}
	} else {
		var items []named
		for _, tool := range res.Tools {
			items = append(items, named{tool.Name, tool.Description})
		}
		slices.SortFunc(items, byName)
		out["tools"] = map[string]any{"items": items}
	}
	var calls []map[string]any
	for _, c := range interopCalls {
		entry := map[string]any{"tool": c.tool}
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: c.tool, Arguments: c.args})
		if err != nil {
			entry["error"] = goRPCError(err)
		} else {
			result := map[string]any{"content": res.Content, "isError": res.IsError}
			if res.StructuredContent != nil {
				result["structuredContent"] = res.StructuredContent
			}
			entry["result"] = result
		}
		calls = append(calls, entry)
	}
	out["calls"] = calls
	if res, err := cs.ListPrompts(ctx, nil); err != nil {
		out["prompts"] = map[string]any{"error": goRPCError(err)}
	} else {
		items := []named{}
		for _, p := range res.Prompts {
			items = append(items, named{p.Name, p.Description})
		}
		slices.SortFunc(items, byName)
		out["prompts"] = map[string]any{"items": items}
	}
	if res, err := cs.ListResources(ctx, nil); err != nil {
		out["resources"] = map[string]any{"error": goRPCError(err)}
	} else {
		items := []map[string]string{}
		for _, r := range res.Resources {
			items = append(items, map[string]string{"uri": r.URI, "name": r.Name})
		}
		out["resources"] = map[string]any{"items": items}
	}
	if res, err := cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: resource}); err != nil {
		out["read"] = map[string]any{"error": goRPCError(err)}
	} else {
		contents := []map[string]string{}
		for _, c := range res.Contents {
			contents = append(contents, map[string]string{
				"uri": c.URI, "mimeType": c.MIMEType, "text": c.Text, "blob": base64.StdEncoding.EncodeToString(c.Blob),
			})
		}
		out["read"] = map[string]any{"contents": contents}
	}
	return roundTrip(t, out)
}

// goRPCError is an error as the application sees it: a JSON-RPC error's
// code and message, or code 0 and the text of any other failure.
func goRPCError(err error) map[string]any {
	var we *jsonrpc.Error
	if errors.As(err, &we) {
		return map[string]any{"code": we.Code, "message": we.Message}
	}
	return map[string]any{"code": 0, "message": err.Error()}
}

// roundTrip turns Go values into the maps a decoded transcript holds.
func roundTrip(t testing.TB, v any) transcript {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var tr transcript
	if err := json.Unmarshal(b, &tr); err != nil {
		t.Fatal(err)
	}
	return tr
}

// startSDKServer runs interop/<sdk>/server.* on a free port and returns
// its Streamable HTTP URL and the file it records tool executions in.
func startSDKServer(t testing.TB, sdk string) (url, execLog string) {
	return startSDKServerOn(t, sdk, "streamable")
}

// startSDKServerOn is startSDKServer for a transport: "streamable", or
// "sse" (2024-11-05 HTTP+SSE), whose URL is the SSE endpoint.
func startSDKServerOn(t testing.TB, sdk, transport string) (url, execLog string) {
	t.Helper()
	script := map[string]string{"ts": "server.mjs", "py": "server.py"}[sdk]
	bin, path := sdkCommand(t, sdk, script)
	port := freePort(t)
	execLog = filepath.Join(t.TempDir(), "executions")
	args, endpoint := []string{path, fmt.Sprint(port)}, "/mcp"
	if transport == "sse" {
		args, endpoint = append(args, "sse"), "/sse"
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "INTEROP_EXEC_LOG="+execLog)
	var logs syncBuffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s server: %v", sdk, err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("%s server output:\n%s", sdk, logs.String())
		}
	})
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return "http://" + addr + endpoint, execLog
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s server did not listen on %s within 30s:\n%s", sdk, addr, logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// executions counts the lines "tool <name>" an SDK server recorded.
func executions(t testing.TB, execLog, tool string) int {
	t.Helper()
	b, err := os.ReadFile(execLog)
	if errors.Is(err, os.ErrNotExist) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, line := range strings.Split(string(b), "\n") {
		if line == "tool "+tool {
			n++
		}
	}
	return n
}

// startGoSDKServer serves the Go SDK (from go.mod) counterpart of
// interop/ts/server.mjs and interop/py/server.py: the same tools, prompt
// and resource, executions recorded the same way.
func startGoSDKServer(t testing.TB) (url, execLog string) {
	t.Helper()
	execLog = filepath.Join(t.TempDir(), "executions")
	executed := func(name string) {
		f, err := os.OpenFile(execLog, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
		if err != nil {
			t.Errorf("record execution: %v", err)
			return
		}
		defer f.Close()
		fmt.Fprintf(f, "tool %s\n", name)
	}
	s := mcp.NewServer(&mcp.Implementation{Name: "interop-go-server", Version: "1.0.0"}, nil)
	type echoIn struct {
		Message string `json:"message"`
	}
	mcp.AddTool(s, &mcp.Tool{Name: "echo", Description: "Echoes the message back."},
		func(_ context.Context, _ *mcp.CallToolRequest, in echoIn) (*mcp.CallToolResult, any, error) {
			executed("echo")
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "echo: " + in.Message}}}, nil, nil
		})
	mcp.AddTool(s, &mcp.Tool{Name: "secret_admin", Description: "Administrative operation that policy keeps from clients."},
		func(context.Context, *mcp.CallToolRequest, struct{}) (*mcp.CallToolResult, any, error) {
			executed("secret_admin")
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "secret_admin ran"}}}, nil, nil
		})
	s.AddPrompt(&mcp.Prompt{Name: "greeting", Description: "A friendly greeting.", Arguments: []*mcp.PromptArgument{{Name: "name", Required: true}}},
		func(_ context.Context, req *mcp.GetPromptRequest) (*mcp.GetPromptResult, error) {
			return &mcp.GetPromptResult{Messages: []*mcp.PromptMessage{
				{Role: "user", Content: &mcp.TextContent{Text: "Hello, " + req.Params.Arguments["name"] + "!"}},
			}}, nil
		})
	s.AddResource(&mcp.Resource{URI: "interop://note", Name: "note", Description: "A short note.", MIMEType: "text/plain"},
		func(_ context.Context, req *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
			return &mcp.ReadResourceResult{Contents: []*mcp.ResourceContents{
				{URI: req.Params.URI, MIMEType: "text/plain", Text: "interop note"},
			}}, nil
		})
	port := serveBackend(t, mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s }, nil))
	return fmt.Sprintf("http://127.0.0.1:%d/mcp", port), execLog
}
