package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpgate/mcpgate/stdiobridge/stdiotest"
)

// This test binary is also a stdio MCP server: `mcpgate run -- <it>`
// runs it again with stdiotest.EnvVar set.
func init() { stdiotest.MaybeRun() }

// stdioCommand is the test binary as a stdio server command line.
func stdioCommand(t *testing.T, mode string) []string {
	t.Helper()
	t.Setenv(stdiotest.EnvVar, mode) // the child inherits it; this process is past init
	return []string{os.Args[0], "-test.run=^$"}
}

// stdioSession is what a client sees of the stdiotest server, collected
// the same way directly and through the gateway.
type stdioSession struct {
	Tools    []string
	Echo     string
	Sample   string
	Progress []string
	Denied   string // the delete_files call: its text, or the error
}

func exerciseStdio(ctx context.Context, t *testing.T, tr mcp.Transport) stdioSession {
	t.Helper()
	var mu sync.Mutex
	var out stdioSession
	client := mcp.NewClient(&mcp.Implementation{Name: "stdio-e2e", Version: "0"}, &mcp.ClientOptions{
		CreateMessageHandler: func(_ context.Context, req *mcp.CreateMessageRequest) (*mcp.CreateMessageResult, error) {
			return &mcp.CreateMessageResult{Model: "m", Role: "assistant", Content: &mcp.TextContent{Text: "forty-two"}}, nil
		},
		ProgressNotificationHandler: func(_ context.Context, req *mcp.ProgressNotificationClientRequest) {
			mu.Lock()
			defer mu.Unlock()
			out.Progress = append(out.Progress, req.Params.Message)
		},
	})
	// Directly the SDK negotiates the stateless 2026-07-28 revision, which
	// the bridge does not serve (session-less requests get 400, and SDK
	// clients fall back to initialize): compare on the session protocol.
	cs, err := client.Connect(ctx, tr, &mcp.ClientSessionOptions{ProtocolVersion: "2025-11-25"})
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer cs.Close()
	out.Tools = toolNames(ctx, t, cs)
	text := func(name string, args map[string]any, meta mcp.Meta) string {
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: args, Meta: meta})
		if err != nil {
			return "error: " + err.Error()
		}
		b, _ := json.Marshal(res.Content)
		if res.IsError {
			return "tool error: " + string(b)
		}
		return string(b)
	}
	out.Echo = text("echo", map[string]any{"text": "hello through stdio"}, nil)
	out.Sample = text("sample", map[string]any{"text": "what is six times seven?"}, nil)
	text("progress", nil, mcp.Meta{"progressToken": "p1"})
	out.Denied = text("delete_files", map[string]any{"path": "/tmp/x"}, nil)
	mu.Lock()
	defer mu.Unlock()
	return out
}

// TestRunStdio: `mcpgate run -- CMD` serves a stdio server through Envoy
// and mcpgate. Passive, a client sees exactly what it sees running the
// server itself; active, the allowlist hides and refuses delete_files, and
// the refused call never reaches the server.
func TestRunStdio(t *testing.T) {
	envoyBinary(t)
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	command := stdioCommand(t, "1")
	policy := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(policy, []byte("backends:\n  default:\n    allowed_tools: [echo, sample, progress]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	want := exerciseStdio(ctx, t, &mcp.CommandTransport{Command: exec.Command(command[0], command[1:]...)})
	if want.Sample != `[{"type":"text","text":"model said: forty-two"}]` || len(want.Progress) != 2 || !strings.Contains(want.Denied, "deleted nothing") {
		t.Fatalf("direct run: %+v", want)
	}
	for _, mode := range []string{"passive", "active"} {
		t.Run(mode, func(t *testing.T) {
			gw, stop := startGateway(t, append([]string{"--listen", "127.0.0.1:0", "--config", policy, "--mode", mode, "--"}, command...)...)
			if !strings.HasSuffix(gw, "/mcp") {
				t.Errorf("gateway URL %q", gw)
			}
			got := exerciseStdio(ctx, t, &mcp.StreamableClientTransport{Endpoint: gw, MaxRetries: -1})
			t.Logf("%s through %s: %+v", mode, gw, got)
			if mode == "active" {
				if !strings.Contains(got.Denied, "error") || strings.Contains(got.Denied, "deleted nothing") {
					t.Errorf("active: delete_files answered %q, want a refusal", got.Denied)
				}
				want := want
				want.Tools = slices.DeleteFunc(slices.Clone(want.Tools), func(n string) bool { return !slices.Contains([]string{"echo", "sample", "progress"}, n) })
				want.Denied = got.Denied
				if !equalSessions(got, want) {
					t.Errorf("active through the gateway:\n%+v\nwant (direct, allowlisted)\n%+v", got, want)
				}
			} else if !equalSessions(got, want) {
				t.Errorf("passive through the gateway:\n%+v\nwant (direct)\n%+v", got, want)
			}
			code, logs := stop()
			if code != 0 {
				t.Errorf("exit %d, want 0:\n%s", code, logs)
			}
			prefix := "[" + filepath.Base(command[0]) + "] stdiotest: "
			if !strings.Contains(logs, prefix+"ready pid") || !strings.Contains(logs, prefix+"call sample") {
				t.Errorf("server stderr not logged with prefix %q:\n%s", prefix, logs)
			}
			if reached := strings.Contains(logs, prefix+"call delete_files"); reached != (mode == "passive") {
				t.Errorf("delete_files reached the server: %v, want %v", reached, mode == "passive")
			}
		})
	}
}

func equalSessions(a, b stdioSession) bool {
	return slices.Equal(a.Tools, b.Tools) && a.Echo == b.Echo && a.Sample == b.Sample &&
		slices.Equal(a.Progress, b.Progress) && a.Denied == b.Denied
}

// TestRunStdioExitStatus: a stdio server that exits ends `mcpgate run`
// with its status, and `mcpgate run --help` shows the stdio form.
func TestRunStdioExitStatus(t *testing.T) {
	envoyBinary(t)
	command := stdioCommand(t, "exit:5")
	var out, errs syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- Run(context.Background(), append([]string{"run", "--listen", "127.0.0.1:0", "--"}, command...), nil, &out, &errs)
	}()
	select {
	case code := <-done:
		if code != 5 || !strings.Contains(errs.String(), "stdiotest: exiting with 5") {
			t.Errorf("exit %d, want 5; stderr:\n%s", code, errs.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("mcpgate run still running 30s after its stdio server exited")
	}
}

func TestRunHelpShowsStdio(t *testing.T) {
	var out, errs syncBuffer
	if code := Run(context.Background(), []string{"run", "--help"}, nil, &out, &errs); code != 0 || !strings.Contains(out.String(), "mcpgate run [flags] -- CMD [ARGS...]") {
		t.Errorf("exit %d, stdout:\n%s", code, out.String())
	}
	errs = syncBuffer{}
	if code := Run(context.Background(), []string{"run", "--", "no-such-command-mcpgate"}, nil, &out, &errs); code != 2 || !strings.Contains(errs.String(), "executable file not found") {
		t.Errorf("missing command: exit %d, stderr %q; want 2", code, errs.String())
	}
}

func TestStdioAllowedHosts(t *testing.T) {
	tests := []struct {
		listen, public string
		want           []string // each must be allowed
		notWant        string
		wantErr        bool
	}{
		{listen: "127.0.0.1:10000", want: []string{"127.0.0.1"}, notWant: "gw.example.com"},
		{listen: "192.0.2.7:10000", want: []string{"192.0.2.7"}},
		{listen: "127.0.0.1:10000", public: "https://gw.example.com:8443/base", want: []string{"gw.example.com:8443", "gw.example.com"}},
		{listen: "0.0.0.0:10000", want: []string{"127.0.0.1"}, notWant: "*"}, // every local address, never any host
		{listen: "127.0.0.1:10000", public: "gw.example.com", wantErr: true},
		{listen: "nope", wantErr: true},
	}
	for _, tt := range tests {
		got, err := allowedHosts(tt.listen, tt.public)
		if (err != nil) != tt.wantErr {
			t.Errorf("allowedHosts(%q, %q) error %v, want error %v", tt.listen, tt.public, err, tt.wantErr)
			continue
		}
		for _, w := range tt.want {
			if !slices.Contains(got, w) {
				t.Errorf("allowedHosts(%q, %q) = %v, lacks %q", tt.listen, tt.public, got, w)
			}
		}
		if tt.notWant != "" && slices.Contains(got, tt.notWant) {
			t.Errorf("allowedHosts(%q, %q) = %v, has %q", tt.listen, tt.public, got, tt.notWant)
		}
	}
}
