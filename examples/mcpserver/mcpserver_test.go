package mcpserver_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpgate/mcpgate/examples/mcpserver"
)

// legacyVersion is the protocol version the raw tests speak. SDK v1.8.0
// clients first send server/discover with 2026-07-28; a stateful server
// answers without that version in supportedVersions, so the client falls
// back to initialize with this version.
const legacyVersion = "2025-11-25"

func TestClientCalls(t *testing.T) {
	for _, path := range []string{mcpserver.PathSSE, mcpserver.PathJSON} {
		t.Run(path, func(t *testing.T) {
			b := mcpserver.NewBackend()
			srv := httptest.NewServer(b.Handler())
			defer srv.Close()

			var progress atomic.Int32
			client := mcp.NewClient(&mcp.Implementation{Name: "test", Version: "0"}, &mcp.ClientOptions{
				ProgressNotificationHandler: func(context.Context, *mcp.ProgressNotificationClientRequest) {
					progress.Add(1)
				},
			})
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: srv.URL + path}, nil)
			if err != nil {
				t.Fatalf("connect: %v", err)
			}
			defer cs.Close()

			tools, err := cs.ListTools(ctx, nil)
			if err != nil {
				t.Fatalf("list tools: %v", err)
			}
			var names []string
			for _, tool := range tools.Tools {
				names = append(names, tool.Name)
			}
			slices.Sort(names)
			want := []string{"add", "delete_files", "echo", "fetch_page", "stream_story"}
			if !slices.Equal(names, want) {
				t.Fatalf("tools = %v, want %v", names, want)
			}

			calls := []struct {
				tool    string
				args    map[string]any
				want    string
				isError bool
			}{
				{tool: "echo", args: map[string]any{"text": "hello"}, want: "hello"},
				{tool: "add", args: map[string]any{"a": 2, "b": 3.5}, want: "5.5"},
				{tool: "fetch_page", args: map[string]any{"url": "https://blog.example/"}, want: mcpserver.PoisonedPage},
				{tool: "delete_files", args: map[string]any{"path": "/tmp/x"}, want: "deleted /tmp/x"},
				{tool: "stream_story", args: map[string]any{"parts": 4, "delay_ms": 10}, want: "story done: 4 parts"},
				{tool: "stream_story", args: map[string]any{"parts": 21}, isError: true},
			}
			for _, c := range calls {
				params := &mcp.CallToolParams{Name: c.tool, Arguments: c.args}
				params.SetProgressToken("tok-" + c.tool)
				res, err := cs.CallTool(ctx, params)
				if err != nil {
					t.Fatalf("call %s: %v", c.tool, err)
				}
				if res.IsError != c.isError {
					t.Fatalf("call %s: IsError = %v, want %v (%+v)", c.tool, res.IsError, c.isError, res.Content)
				}
				if c.isError {
					continue
				}
				if got := resultText(t, res); got != c.want {
					t.Errorf("call %s = %q, want %q", c.tool, got, c.want)
				}
			}

			// In JSON mode the SDK moves notifications to the standalone GET
			// stream, so their arrival is not tied to the call; only SSE
			// guarantees them before the result.
			if path == mcpserver.PathSSE {
				// The client runs notification handlers asynchronously, so
				// the last may land just after the result.
				for i := 0; i < 100 && progress.Load() < 4; i++ {
					time.Sleep(10 * time.Millisecond)
				}
				if got := progress.Load(); got != 4 {
					t.Errorf("progress notifications = %d, want 4", got)
				}
			}
			for tool, want := range map[string]int{"echo": 1, "add": 1, "fetch_page": 1, "delete_files": 1, "stream_story": 2, "nope": 0} {
				if got := b.Calls(tool); got != want {
					t.Errorf("Calls(%q) = %d, want %d", tool, got, want)
				}
			}
			if got := b.TotalCalls(); got != 6 {
				t.Errorf("TotalCalls() = %d, want 6", got)
			}
		})
	}
}

func resultText(t *testing.T, res *mcp.CallToolResult) string {
	t.Helper()
	if len(res.Content) != 1 {
		t.Fatalf("content has %d items, want 1", len(res.Content))
	}
	tc, ok := res.Content[0].(*mcp.TextContent)
	if !ok {
		t.Fatalf("content is %T, want *mcp.TextContent", res.Content[0])
	}
	return tc.Text
}

func TestRawContentType(t *testing.T) {
	tests := []struct {
		path string
		want string
	}{
		{mcpserver.PathSSE, "text/event-stream"},
		{mcpserver.PathJSON, "application/json"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			srv := httptest.NewServer(mcpserver.NewBackend().Handler())
			defer srv.Close()
			url := srv.URL + tt.path
			session := handshake(t, url)

			resp := post(t, url, session, `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hi"}}}`)
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			if got := mediaType(resp); got != tt.want {
				t.Errorf("Content-Type = %q, want %q", got, tt.want)
			}
			if !bytes.Contains(body, []byte(`"text":"hi"`)) {
				t.Errorf("body %q lacks the echoed text", body)
			}
		})
	}
}

// TestSSEFlushes checks that stream_story's response reaches the client as
// several SSE events spread over time, not one buffered write.
func TestSSEFlushes(t *testing.T) {
	const parts, delay = 4, 40 * time.Millisecond
	srv := httptest.NewServer(mcpserver.NewBackend().Handler())
	defer srv.Close()
	url := srv.URL + mcpserver.PathSSE
	session := handshake(t, url)

	resp := post(t, url, session, fmt.Sprintf(`{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"_meta":{"progressToken":"p"},"name":"stream_story","arguments":{"parts":%d,"delay_ms":%d}}}`,
		parts, delay.Milliseconds()))
	defer resp.Body.Close()
	if got := mediaType(resp); got != "text/event-stream" {
		t.Fatalf("Content-Type = %q", got)
	}

	// Record when each data line arrives; bufio hands lines over as soon as
	// the server's flush reaches us.
	var events []string
	var times []time.Time
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			events = append(events, data)
			times = append(times, time.Now())
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("reading body: %v", err)
	}
	if len(events) != parts+1 {
		t.Fatalf("got %d data events, want %d: %q", len(events), parts+1, events)
	}
	for i, e := range events[:parts] {
		if !strings.Contains(e, `"method":"notifications/progress"`) {
			t.Errorf("event %d is not a progress notification: %s", i, e)
		}
	}
	if !strings.Contains(events[parts], "story done: 4 parts") {
		t.Errorf("last event is not the result: %s", events[parts])
	}
	// The first event is written after one delay and the result after the
	// last, so a response split into flushes spans at least (parts-1) delays.
	if spread := times[len(times)-1].Sub(times[0]); spread < (parts-1)*delay*3/4 {
		t.Errorf("events arrived within %v; want them spread over ~%v", spread, (parts-1)*delay)
	}
}

func TestRejectedRequests(t *testing.T) {
	init := initializeBody(1)
	tests := []struct {
		name       string
		host       string
		version    string
		wantStatus int
	}{
		{name: "envoy loopback host", host: "127.0.0.1:10000", wantStatus: http.StatusOK},
		{name: "localhost host", host: "localhost:10000", wantStatus: http.StatusOK},
		{name: "rebinding host", host: "attacker.example", wantStatus: http.StatusForbidden},
		{name: "unsupported protocol header", version: "1999-01-01", wantStatus: http.StatusBadRequest},
		{name: "supported protocol header", version: legacyVersion, wantStatus: http.StatusOK},
	}
	srv := httptest.NewServer(mcpserver.NewBackend().Handler())
	defer srv.Close()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := newPost(t, srv.URL+mcpserver.PathJSON, init)
			if tt.host != "" {
				req.Host = tt.host
			}
			if tt.version != "" {
				req.Header.Set("MCP-Protocol-Version", tt.version)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.wantStatus {
				t.Errorf("status = %d, want %d: %s", resp.StatusCode, tt.wantStatus, body)
			}
		})
	}
}

func initializeBody(id int) string {
	return fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"initialize","params":{"protocolVersion":%q,"capabilities":{},"clientInfo":{"name":"raw","version":"0"}}}`, id, legacyVersion)
}

// handshake runs initialize and notifications/initialized as a raw client
// must, and returns the session ID the server assigned.
func handshake(t *testing.T, url string) string {
	t.Helper()
	resp := post(t, url, "", initializeBody(1))
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("initialize: status %d: %s", resp.StatusCode, body)
	}
	if !bytes.Contains(body, []byte(`"protocolVersion":"`+legacyVersion+`"`)) {
		t.Fatalf("initialize did not negotiate %s: %s", legacyVersion, body)
	}
	session := resp.Header.Get("Mcp-Session-Id")
	if session == "" {
		t.Fatal("initialize: no Mcp-Session-Id header")
	}
	resp = post(t, url, session, `{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("initialized: status %d, want 202", resp.StatusCode)
	}
	return session
}

func post(t *testing.T, url, session, body string) *http.Response {
	t.Helper()
	req := newPost(t, url, body)
	if session != "" {
		req.Header.Set("Mcp-Session-Id", session)
		req.Header.Set("MCP-Protocol-Version", legacyVersion)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	return resp
}

func newPost(t *testing.T, url, body string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	// The SDK answers 400 unless Accept lists both types, even in JSON mode.
	req.Header.Set("Accept", "application/json, text/event-stream")
	return req
}

func mediaType(resp *http.Response) string {
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	return mt
}

func TestRugPull(t *testing.T) {
	b := mcpserver.NewBackend()
	b.RugPullAfter(2)
	srv := httptest.NewServer(b.Handler())
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var changed atomic.Int32
	client := mcp.NewClient(&mcp.Implementation{Name: "test", Version: "0"}, &mcp.ClientOptions{
		ToolListChangedHandler: func(context.Context, *mcp.ToolListChangedRequest) { changed.Add(1) },
	})
	cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: srv.URL + mcpserver.PathSSE}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	describe := func() string {
		tools, err := cs.ListTools(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, tool := range tools.Tools {
			if tool.Name == mcpserver.ToolAdd {
				return tool.Description
			}
		}
		return ""
	}
	before := describe()
	for i := range 2 {
		if _, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"text": fmt.Sprint(i)}}); err != nil {
			t.Fatal(err)
		}
	}
	after := describe()
	if before == after || !strings.Contains(after, "keep a note") {
		t.Errorf("add description %q -> %q; want the rug pull after 2 calls", before, after)
	}
	for i := 0; i < 100 && changed.Load() == 0; i++ {
		time.Sleep(10 * time.Millisecond) // notification handlers run asynchronously
	}
	if changed.Load() == 0 {
		t.Error("no notifications/tools/list_changed after the rug pull")
	}
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "add", Arguments: map[string]any{"a": 1, "b": 2, "note": "x"}})
	if err != nil || res.IsError || resultText(t, res) != "3" {
		t.Errorf("pulled add: %v %+v", err, res)
	}
}
