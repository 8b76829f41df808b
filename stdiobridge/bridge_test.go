package stdiobridge

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpgate/mcpgate/stdiobridge/stdiotest"
)

// The test binary is also the stdio server: the bridge runs it again
// with stdiotest.EnvVar set.
func init() { stdiotest.MaybeRun() }

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// testBridge is a running bridge over the stdiotest server.
type testBridge struct {
	*Bridge
	url    string
	logs   *syncBuffer
	cancel context.CancelFunc
	done   chan error
}

// startBridge serves the test binary as a stdio server; mode is the
// stdiotest.EnvVar value ("1": serve).
func startBridge(t testing.TB, mode string, opts ...func(*Config)) *testBridge {
	t.Helper()
	logs := &syncBuffer{}
	cfg := Config{
		Command:   []string{os.Args[0], "-test.run=^$"},
		Env:       append(os.Environ(), stdiotest.EnvVar+"="+mode),
		Logger:    slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		StopGrace: 500 * time.Millisecond,
	}
	for _, o := range opts {
		o(&cfg)
	}
	b, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	tb := &testBridge{Bridge: b, url: "http://" + l.Addr().String() + "/mcp", logs: logs, cancel: cancel, done: make(chan error, 1)}
	go func() { tb.done <- b.Serve(ctx, l) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-tb.done:
		case <-time.After(10 * time.Second):
			t.Error("bridge did not stop within 10s")
		}
		if t.Failed() {
			t.Logf("bridge log:\n%s", logs.String())
		}
	})
	return tb
}

// wait returns Serve's result.
func (tb *testBridge) wait(t *testing.T) error {
	t.Helper()
	select {
	case err := <-tb.done:
		tb.done <- err // for cleanup
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("bridge still running after 10s")
		return nil
	}
}

func (tb *testBridge) sessionCount() int {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	return len(tb.sessions)
}

func (tb *testBridge) onlySession(t *testing.T) *session {
	t.Helper()
	tb.mu.Lock()
	defer tb.mu.Unlock()
	if len(tb.sessions) != 1 {
		t.Fatalf("%d sessions, want 1", len(tb.sessions))
	}
	for _, s := range tb.sessions {
		return s
	}
	return nil
}

func resultText(t *testing.T, res *mcp.CallToolResult, err error) string {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Content) != 1 {
		t.Fatalf("content %v", res.Content)
	}
	tc, ok := res.Content[0].(*mcp.TextContent)
	if !ok {
		t.Fatalf("content %T", res.Content[0])
	}
	return tc.Text
}

// TestClientThroughBridge drives every direction of the transport with
// the Go SDK client over Streamable HTTP.
func TestClientThroughBridge(t *testing.T) {
	tb := startBridge(t, "1")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var mu sync.Mutex
	var progress []string
	var logged []any
	client := mcp.NewClient(&mcp.Implementation{Name: "bridge-test", Version: "0"}, &mcp.ClientOptions{
		CreateMessageHandler: func(_ context.Context, req *mcp.CreateMessageRequest) (*mcp.CreateMessageResult, error) {
			q := req.Params.Messages[0].Content.(*mcp.TextContent).Text
			return &mcp.CreateMessageResult{Model: "m", Role: "assistant", Content: &mcp.TextContent{Text: "answer to " + q}}, nil
		},
		ProgressNotificationHandler: func(_ context.Context, req *mcp.ProgressNotificationClientRequest) {
			mu.Lock()
			defer mu.Unlock()
			progress = append(progress, req.Params.Message)
		},
		LoggingMessageHandler: func(_ context.Context, req *mcp.LoggingMessageRequest) {
			mu.Lock()
			defer mu.Unlock()
			logged = append(logged, req.Params.Data)
		},
	})
	client.AddRoots(&mcp.Root{URI: "file:///tmp/a"}, &mcp.Root{URI: "file:///tmp/b"})
	cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: tb.url, MaxRetries: -1}, nil)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	s := tb.onlySession(t)
	if err := cs.SetLoggingLevel(ctx, &mcp.SetLoggingLevelParams{Level: "debug"}); err != nil {
		t.Fatal(err)
	}
	res, err := cs.ListTools(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tool := range res.Tools {
		names = append(names, tool.Name)
	}
	slices.Sort(names)
	if want := []string{"delete_files", "echo", "exit", "progress", "roots", "sample"}; !slices.Equal(names, want) {
		t.Errorf("tools %v, want %v", names, want)
	}
	call := func(name string, args map[string]any, meta mcp.Meta) string {
		p := &mcp.CallToolParams{Name: name, Arguments: args}
		if meta != nil {
			p.Meta = meta
		}
		res, err := cs.CallTool(ctx, p)
		return resultText(t, res, err)
	}
	if got := call("echo", map[string]any{"text": "hi"}, nil); got != "hi" {
		t.Errorf("echo = %q", got)
	}
	if got := call("progress", nil, mcp.Meta{"progressToken": "tok-1"}); got != "done" {
		t.Errorf("progress = %q", got)
	}
	if got := call("sample", map[string]any{"text": "q?"}, nil); got != "model said: answer to q?" {
		t.Errorf("sample = %q", got)
	}
	if got := call("roots", nil, nil); got != "file:///tmp/a file:///tmp/b" {
		t.Errorf("roots = %q", got)
	}
	mu.Lock()
	if !slices.Equal(progress, []string{"step 1", "step 2"}) || !slices.Equal(logged, []any{"halfway"}) {
		t.Errorf("progress %q, log messages %v; want both steps and one message", progress, logged)
	}
	mu.Unlock()
	if err := cs.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	select {
	case <-s.child.exited:
	case <-time.After(5 * time.Second):
		t.Fatal("child still running 5s after the client ended the session")
	}
	if n := tb.sessionCount(); n != 0 || s.child.crashed() {
		t.Errorf("%d sessions left, child crashed=%v; want 0 and an asked-for exit", n, s.child.crashed())
	}
	logs := tb.logs.String()
	for _, want := range []string{`msg="[stdio] stdiotest: ready pid`, `msg="[stdio] stdiotest: call sample"`, "stdio session ended by the client"} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %q:\n%s", want, logs)
		}
	}
	if strings.Contains(logs, s.id) {
		t.Error("the session id is logged in clear")
	}
}

// TestChildExit: a child's own exit ends the bridge with its status; a
// stop the bridge asked for does not.
func TestChildExit(t *testing.T) {
	t.Run("at start", func(t *testing.T) {
		tb := startBridge(t, "exit:3")
		var ee *ExitError
		if err := tb.wait(t); !errors.As(err, &ee) || ee.Status != 3 {
			t.Fatalf("Serve = %v, want an ExitError with status 3", err)
		}
		if !strings.Contains(tb.logs.String(), "[stdio] stdiotest: exiting with 3") {
			t.Errorf("stderr not logged:\n%s", tb.logs.String())
		}
	})
	t.Run("killed", func(t *testing.T) {
		tb := startBridge(t, "kill")
		var ee *ExitError
		if err := tb.wait(t); !errors.As(err, &ee) || ee.Status != 128+9 {
			t.Fatalf("Serve = %v, want an ExitError with status 137", err)
		}
	})
	t.Run("mid session", func(t *testing.T) {
		tb := startBridge(t, "1")
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		cs, err := mcp.NewClient(&mcp.Implementation{Name: "t", Version: "0"}, nil).
			Connect(ctx, &mcp.StreamableClientTransport{Endpoint: tb.url, MaxRetries: -1}, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer cs.Close()
		if _, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "exit", Arguments: map[string]any{"code": 7}}); err == nil {
			t.Error("a call whose server exited succeeded")
		}
		var ee *ExitError
		if err := tb.wait(t); !errors.As(err, &ee) || ee.Status != 7 {
			t.Fatalf("Serve = %v, want an ExitError with status 7", err)
		}
	})
	t.Run("stopped", func(t *testing.T) {
		tb := startBridge(t, "1")
		var spare *session
		for deadline := time.Now().Add(5 * time.Second); spare == nil && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			tb.mu.Lock()
			spare = tb.spare
			tb.mu.Unlock()
		}
		if spare == nil {
			t.Fatal("no child started")
		}
		tb.cancel()
		if err := tb.wait(t); err != nil {
			t.Fatalf("Serve after cancel = %v, want nil", err)
		}
		select {
		case <-spare.child.exited:
		default:
			t.Error("Serve returned with the child still running")
		}
	})
}
