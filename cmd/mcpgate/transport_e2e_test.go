package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/mcpgate/mcpgate/envoy"
)

// What the conformance suite does not check: headers, sessions, resumption,
// long-held GET streams and server-to-client requests on the GET stream,
// each through Envoy + mcpgate (bundled config) compared with the server
// reached directly.

const (
	pathEvents    = "/mcp"           // SSE responses, with an event store (resumable)
	pathJSONResp  = "/mcp-json"      // JSON responses: server requests go on the GET stream
	pathStateless = "/mcp-stateless" // no sessions; the only way to 2026-07-28
	pathKeepalive = "/keepalive"     // a GET SSE stream of comments, then one event
)

// seen is what the backend received: one entry per HTTP request.
type seen struct {
	Method, Path, Host, Origin, Session, LastEventID string
	MCPMethod, MCPName                               string // 2026-07-28 request headers
}

// transportBackend is a Go SDK server with tools that talk back to the
// client, behind a recorder of each request's transport headers.
type transportBackend struct {
	url string
	mu  sync.Mutex
	log []seen
}

func (b *transportBackend) requests() []seen {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]seen(nil), b.log...)
}

// getArrived reports whether a GET for session reached the server.
func (b *transportBackend) getArrived(session string) bool {
	for _, r := range b.requests() {
		if r.Method == http.MethodGet && r.Session == session {
			return true
		}
	}
	return false
}

func newTransportBackend(t testing.TB, keepalive time.Duration, keepaliveFor time.Duration) *transportBackend {
	server := mcp.NewServer(&mcp.Implementation{Name: "transport-e2e", Version: "0"}, nil)
	sample := func(ctx context.Context, req *mcp.CallToolRequest, _ map[string]any) (*mcp.CallToolResult, any, error) {
		res, err := req.Session.CreateMessage(ctx, &mcp.CreateMessageParams{MaxTokens: 10,
			Messages: []*mcp.SamplingMessage{{Role: "user", Content: &mcp.TextContent{Text: "say hi"}}}})
		if err != nil {
			return nil, nil, err
		}
		return &mcp.CallToolResult{Content: []mcp.Content{res.Content}}, nil, nil
	}
	mcp.AddTool(server, &mcp.Tool{Name: "sample", InputSchema: map[string]any{"type": "object"}}, sample)
	// The name the conformance suite's tools-call-sampling scenario calls.
	mcp.AddTool(server, &mcp.Tool{Name: "test_sampling", InputSchema: map[string]any{"type": "object"}}, sample)
	mcp.AddTool(server, &mcp.Tool{Name: "count", InputSchema: map[string]any{"type": "object"}},
		func(ctx context.Context, req *mcp.CallToolRequest, _ map[string]any) (*mcp.CallToolResult, any, error) {
			if token := req.Params.GetProgressToken(); token != nil {
				for i := range 3 {
					p := &mcp.ProgressNotificationParams{ProgressToken: token, Progress: float64(i + 1), Total: 3}
					if err := req.Session.NotifyProgress(ctx, p); err != nil {
						return nil, nil, err
					}
				}
			}
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "counted"}}}, nil, nil
		})
	get := func(*http.Request) *mcp.Server { return server }
	mux := http.NewServeMux()
	mux.Handle(pathEvents, mcp.NewStreamableHTTPHandler(get, &mcp.StreamableHTTPOptions{EventStore: mcp.NewMemoryEventStore(nil)}))
	mux.Handle(pathJSONResp, mcp.NewStreamableHTTPHandler(get, &mcp.StreamableHTTPOptions{JSONResponse: true}))
	mux.Handle(pathStateless, mcp.NewStreamableHTTPHandler(get, &mcp.StreamableHTTPOptions{Stateless: true}))
	mux.HandleFunc(pathKeepalive, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		tick := time.NewTicker(keepalive)
		defer tick.Stop()
		end := time.After(keepaliveFor)
		for {
			select {
			case <-r.Context().Done():
				return
			case <-end:
				io.WriteString(w, "id: last\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/message\",\"params\":{\"level\":\"info\",\"data\":\"end\"}}\n\n")
				return
			case <-tick.C:
				io.WriteString(w, ": keep-alive\n\n")
				w.(http.Flusher).Flush()
			}
		}
	})
	b := &transportBackend{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.mu.Lock()
		b.log = append(b.log, seen{r.Method, r.URL.Path, r.Host, r.Header.Get("Origin"), r.Header.Get("Mcp-Session-Id"),
			r.Header.Get("Last-Event-ID"), r.Header.Get("Mcp-Method"), r.Header.Get("Mcp-Name")})
		b.mu.Unlock()
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	b.url = srv.URL
	return b
}

func (b *transportBackend) port(t testing.TB) int {
	u, _ := url.Parse(b.url)
	port, err := strconv.Atoi(u.Port())
	if err != nil {
		t.Fatal(err)
	}
	return port
}

func TestTransport(t *testing.T) {
	envoyBinary(t)
	// 12 s of keep-alives outlasts the ext_proc message_timeout (5 s) and
	// gRPC timeout (10 s) of the bundled config; the hour-long idle
	// timeouts are for the soak benchmark.
	b := newTransportBackend(t, 500*time.Millisecond, 12*time.Second)
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	for _, mode := range []string{"passive", "active"} {
		t.Run(mode, func(t *testing.T) {
			port, logs, _ := startMcpgate(t, "--mode", mode)
			gw := startEnvoy(t, b.port(t), port)
			defer func() {
				if t.Failed() {
					t.Logf("mcpgate log:\n%s", logs.String())
				}
			}()
			t.Run("host and origin unchanged", func(t *testing.T) { hostOrigin(t, b, gw) })
			t.Run("session id both ways and DELETE", func(t *testing.T) { sessionLifecycle(t, b, gw) })
			t.Run("Last-Event-ID resumes", func(t *testing.T) { resume(t, b, gw) })
			t.Run("sampling on the GET stream", func(t *testing.T) { samplingOnGET(t, b, gw) })
			t.Run("protocol eras", func(t *testing.T) { eras(t, b, gw) })
			if mode == "active" {
				t.Run("long-held GET", func(t *testing.T) { longGET(t, gw, 500*time.Millisecond, 12*time.Second) })
			}
		})
	}
}

// hostOrigin checks that Host and Origin reach the server as the client sent
// them, and that the server's DNS-rebinding and cross-origin checks answer
// through the gateway as they do directly.
func hostOrigin(t *testing.T, b *transportBackend, gw string) {
	tests := []struct{ name, host, origin string }{
		{"loopback", "", ""},
		{"rebinding host", "attacker.example", ""},
		{"foreign origin", "", "http://attacker.example"},
		{"local origin", "", "http://localhost:3000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status := func(base string) (int, seen) {
				req, _ := http.NewRequest(http.MethodPost, base+pathJSONResp, strings.NewReader(initBody("2025-11-25")))
				setMCPHeaders(req, "", "")
				if tt.host != "" {
					req.Host = tt.host
				}
				if tt.origin != "" {
					req.Header.Set("Origin", tt.origin)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				reqs := b.requests()
				return resp.StatusCode, reqs[len(reqs)-1]
			}
			wantStatus, _ := status(b.url)
			gotStatus, got := status(gw)
			if gotStatus != wantStatus {
				t.Errorf("status through gateway %d, directly %d", gotStatus, wantStatus)
			}
			wantHost := strings.TrimPrefix(gw, "http://")
			if tt.host != "" {
				wantHost = tt.host
			}
			if got.Host != wantHost || got.Origin != tt.origin {
				t.Errorf("server saw Host %q Origin %q, client sent %q %q", got.Host, got.Origin, wantHost, tt.origin)
			}
		})
	}
}

// sessionLifecycle checks that the server's Mcp-Session-Id reaches the
// client, the client's reaches the server, and DELETE ends the session.
func sessionLifecycle(t *testing.T, b *transportBackend, gw string) {
	resp := do(t, http.MethodPost, gw+pathJSONResp, initBody("2025-11-25"), "", "")
	session := resp.Header.Get("Mcp-Session-Id")
	if resp.StatusCode != http.StatusOK || session == "" {
		t.Fatalf("initialize: status %d, session %q", resp.StatusCode, session)
	}
	steps := []struct {
		method, body string
		want         int
	}{
		{http.MethodPost, `{"jsonrpc":"2.0","method":"notifications/initialized"}`, http.StatusAccepted},
		{http.MethodPost, `{"jsonrpc":"2.0","id":2,"method":"tools/list"}`, http.StatusOK},
		{http.MethodDelete, "", http.StatusNoContent},
		{http.MethodPost, `{"jsonrpc":"2.0","id":3,"method":"tools/list"}`, http.StatusNotFound},
	}
	for _, s := range steps {
		before := len(b.requests())
		resp := do(t, s.method, gw+pathJSONResp, s.body, session, "2025-11-25")
		if resp.StatusCode != s.want {
			t.Errorf("%s %s: status %d, want %d", s.method, s.body, resp.StatusCode, s.want)
		}
		reqs := b.requests()
		if len(reqs) != before+1 || reqs[len(reqs)-1].Session != session {
			t.Errorf("%s %s: server did not see session %q: %+v", s.method, s.body, session, reqs[before:])
		}
	}
}

// resume reads a tools/call's SSE response, then replays it from its first
// event with a GET carrying Last-Event-ID.
func resume(t *testing.T, b *transportBackend, gw string) {
	session := initSession(t, gw+pathEvents, "2025-11-25")
	resp := do(t, http.MethodPost, gw+pathEvents, `{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"count","arguments":{},"_meta":{"progressToken":"p"}}}`, session, "2025-11-25")
	events := readEvents(t, resp.Body)
	resp.Body.Close()
	if len(events) < 2 || events[0].id == "" || !strings.Contains(events[len(events)-1].data, "counted") {
		t.Fatalf("tools/call stream: %+v; want several events with ids, the result last", events)
	}
	req, _ := http.NewRequest(http.MethodGet, gw+pathEvents, nil)
	setMCPHeaders(req, session, "2025-11-25")
	req.Header.Set("Last-Event-ID", events[0].id)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	replayed := readEvents(t, resp.Body)
	if len(replayed) != len(events)-1 {
		t.Fatalf("replay after %s: %d events %+v, want %d", events[0].id, len(replayed), replayed, len(events)-1)
	}
	for i, e := range replayed {
		if e != events[i+1] {
			t.Errorf("replayed event %d = %+v, want %+v", i, e, events[i+1])
		}
	}
	if r := b.requests(); r[len(r)-1].LastEventID != events[0].id {
		t.Errorf("server saw Last-Event-ID %q, want %q", r[len(r)-1].LastEventID, events[0].id)
	}
}

// samplingOnGET has the server send sampling/createMessage on the
// standalone GET stream (its POST answers are JSON, so it cannot use them)
// while the tools/call POST waits for the answer.
func samplingOnGET(t *testing.T, b *transportBackend, gw string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cs := samplingClient(ctx, t, gw+pathJSONResp)
	defer cs.Close()
	// The server drops a request for a GET stream that is not open yet;
	// this test is about the stream, the race is BenchmarkSamplingRace's.
	for !b.getArrived(cs.ID()) {
		if ctx.Err() != nil {
			t.Fatal("the client's GET never reached the server")
		}
		time.Sleep(5 * time.Millisecond)
	}
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "sample", Arguments: map[string]any{}})
	if err != nil || textOf(res) != "hi from the client" {
		t.Fatalf("sample: %v %+v", err, res)
	}
}

func samplingClient(ctx context.Context, t testing.TB, endpoint string) *mcp.ClientSession {
	client := mcp.NewClient(&mcp.Implementation{Name: "transport-e2e", Version: "0"}, &mcp.ClientOptions{
		CreateMessageHandler: func(context.Context, *mcp.CreateMessageRequest) (*mcp.CreateMessageResult, error) {
			return &mcp.CreateMessageResult{Model: "test", Role: "assistant", Content: &mcp.TextContent{Text: "hi from the client"}}, nil
		},
	})
	cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: endpoint, MaxRetries: -1}, nil)
	if err != nil {
		t.Fatalf("connect %s: %v", endpoint, err)
	}
	return cs
}

// eras negotiates each protocol revision with sessions through the gateway
// and directly, and the 2026-07-28 stateless revision with the SDK client.
func eras(t *testing.T, b *transportBackend, gw string) {
	for _, version := range []string{"2025-03-26", "2025-06-18", "2025-11-25"} {
		t.Run(version, func(t *testing.T) {
			for _, base := range []string{b.url, gw} {
				resp := do(t, http.MethodPost, base+pathJSONResp, initBody(version), "", "")
				body, _ := io.ReadAll(resp.Body)
				session := resp.Header.Get("Mcp-Session-Id")
				if !strings.Contains(string(body), `"protocolVersion":"`+version+`"`) || session == "" {
					t.Fatalf("%s: initialize %s: session %q, %s", base, version, session, body)
				}
				do(t, http.MethodPost, base+pathJSONResp, `{"jsonrpc":"2.0","method":"notifications/initialized"}`, session, version)
				resp = do(t, http.MethodPost, base+pathJSONResp, `{"jsonrpc":"2.0","id":2,"method":"tools/list"}`, session, version)
				body, _ = io.ReadAll(resp.Body)
				if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"name":"sample"`) {
					t.Errorf("%s: tools/list at %s: %d %s", base, version, resp.StatusCode, body)
				}
			}
		})
	}
	t.Run("2026-07-28", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		before := len(b.requests())
		cs, err := mcp.NewClient(&mcp.Implementation{Name: "transport-e2e", Version: "0"}, nil).
			Connect(ctx, &mcp.StreamableClientTransport{Endpoint: gw + pathStateless, MaxRetries: -1}, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer cs.Close()
		if v := cs.InitializeResult().ProtocolVersion; v != "2026-07-28" {
			t.Errorf("negotiated %q, want 2026-07-28", v)
		}
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "count", Arguments: map[string]any{}})
		if err != nil || textOf(res) != "counted" {
			t.Errorf("tools/call: %v %+v", err, res)
		}
		// The SDK client discovers instead of initializing, and names the
		// method and tool in headers; they reach the server as sent.
		var headers []string
		for _, r := range b.requests()[before:] {
			headers = append(headers, r.MCPMethod+" "+r.MCPName)
		}
		if !slices.Contains(headers, "server/discover ") || !slices.Contains(headers, "tools/call count") {
			t.Errorf("Mcp-Method/Mcp-Name the server saw: %q; want server/discover and tools/call count", headers)
		}
		// The server checks Mcp-Method/Mcp-Name against the body: a
		// mismatch gets the same status, id and code through the gateway
		// (active mcpgate answers it itself, as intermediaries must; the
		// message is its own).
		bad := `{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"count","arguments":{},` +
			`"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}}`
		var answers []string
		for _, base := range []string{b.url, gw} {
			req, _ := http.NewRequest(http.MethodPost, base+pathStateless, strings.NewReader(bad))
			setMCPHeaders(req, "", "2026-07-28")
			req.Header.Set("Mcp-Method", "tools/call")
			req.Header.Set("Mcp-Name", "sample")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			var reply struct {
				ID    json.RawMessage
				Error struct{ Code int }
			}
			json.Unmarshal(body, &reply)
			if !strings.Contains(string(body), "Mcp-Name") {
				t.Errorf("%s: mismatch answer %s does not name Mcp-Name", base, body)
			}
			answers = append(answers, fmt.Sprintf("%d id %s code %d", resp.StatusCode, reply.ID, reply.Error.Code))
		}
		if answers[0] != answers[1] || answers[0] != "400 id 9 code -32020" {
			t.Errorf("header mismatch: gateway %q, directly %q", answers[1], answers[0])
		}
	})
}

// TestKeepAlivesResetIdleTimers shortens the bundled config's hour-long
// stream_idle_timeout and route idle_timeout to one second: a GET stream
// with keep-alives every 200 ms outlives them through mcpgate, and one
// silent for longer is cut, so the timers are live and the keep-alives
// (passing through mcpgate's streamed SSE path) are what reset them.
func TestKeepAlivesResetIdleTimers(t *testing.T) {
	envoyBinary(t)
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	port, _, _ := startMcpgate(t, "--mode", "active")
	tests := []struct {
		name  string
		every time.Duration
		cut   bool
	}{
		{"keep-alives every 200ms", 200 * time.Millisecond, false},
		{"silent for 3s", time.Hour, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newTransportBackend(t, tt.every, 3*time.Second)
			gw := startDerivedEnvoy(t, envoy.Options{Upstream: mustParseURL(t, b.url), ExtProc: fmt.Sprintf("127.0.0.1:%d", port)},
				idleTimeouts(time.Second))
			resp, err := http.Get(gw + pathKeepalive)
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if cut := err != nil || !strings.Contains(string(body), `"data":"end"`); cut != tt.cut {
				t.Errorf("stream cut = %v (err %v, %d bytes), want %v", cut, err, len(body), tt.cut)
			}
		})
	}
}

// idleTimeouts sets the listener's stream_idle_timeout and every route's
// idle_timeout to d.
func idleTimeouts(d time.Duration) func(*bootstrapv3.Bootstrap) error {
	return func(b *bootstrapv3.Bootstrap) error {
		a := b.GetStaticResources().GetListeners()[0].GetFilterChains()[0].GetFilters()[0].GetTypedConfig()
		var hcm hcmv3.HttpConnectionManager
		if err := a.UnmarshalTo(&hcm); err != nil {
			return err
		}
		hcm.StreamIdleTimeout = durationpb.New(d)
		for _, vh := range hcm.GetRouteConfig().GetVirtualHosts() {
			for _, r := range vh.GetRoutes() {
				r.GetRoute().IdleTimeout = durationpb.New(d)
			}
		}
		return a.MarshalFrom(&hcm)
	}
}

// longGET holds a GET SSE stream of keep-alive comments open for d and
// checks that every comment and the final event arrive, uncut, and that
// the process's heap stays flat meanwhile.
func longGET(t testing.TB, gw string, every, d time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), d+10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, gw+pathKeepalive, nil)
	req.Header.Set("Accept", "text/event-stream")
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	var early uint64
	comments, sc := 0, bufio.NewScanner(resp.Body)
	last := ""
	for sc.Scan() {
		switch line := sc.Text(); {
		case strings.HasPrefix(line, ":"):
			comments++
			if comments == 4 {
				early = heap()
			}
		case strings.HasPrefix(line, "data:"):
			last = line
		}
	}
	took := time.Since(start)
	late := heap()
	if err := sc.Err(); err != nil || !strings.Contains(last, `"data":"end"`) {
		t.Fatalf("stream cut after %s and %d keep-alives: err %v, last data %q", took, comments, err, last)
	}
	if want := int(d/every) - 2; comments < want {
		t.Errorf("%d keep-alives in %s, want at least %d", comments, took, want)
	}
	// Generous: noise from the race detector and other goroutines, but a
	// per-chunk leak over the stream's life would show.
	if late > early+4<<20 {
		t.Errorf("heap grew from %d to %d bytes while the stream was held", early, late)
	}
	t.Logf("GET held %s, %d keep-alives, heap %d → %d bytes", took.Round(time.Millisecond), comments, early, late)
}

type sseEvent struct{ id, data string }

// readEvents reads SSE events until the body ends or an event carries a
// JSON-RPC response (the end of a request's stream).
func readEvents(t *testing.T, r io.Reader) []sseEvent {
	t.Helper()
	var events []sseEvent
	var cur sseEvent
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if cur.data != "" {
				events = append(events, cur)
				if strings.Contains(cur.data, `"result"`) || strings.Contains(cur.data, `"error"`) {
					return events
				}
			}
			cur = sseEvent{}
		case strings.HasPrefix(line, "id:"):
			cur.id = strings.TrimSpace(strings.TrimPrefix(line, "id:"))
		case strings.HasPrefix(line, "data:"):
			cur.data += strings.TrimSpace(strings.TrimPrefix(line, "data:"))
		}
	}
	return events
}

func initBody(version string) string {
	return `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"` + version +
		`","capabilities":{"sampling":{}},"clientInfo":{"name":"e2e","version":"0"}}}`
}

func initSession(t *testing.T, u, version string) string {
	t.Helper()
	resp := do(t, http.MethodPost, u, initBody(version), "", "")
	session := resp.Header.Get("Mcp-Session-Id")
	if session == "" {
		t.Fatalf("initialize at %s: no session (status %d)", u, resp.StatusCode)
	}
	do(t, http.MethodPost, u, `{"jsonrpc":"2.0","method":"notifications/initialized"}`, session, version)
	return session
}

func setMCPHeaders(req *http.Request, session, version string) {
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	if session != "" {
		req.Header.Set("Mcp-Session-Id", session)
	}
	if version != "" {
		req.Header.Set("Mcp-Protocol-Version", version)
	}
}

// do sends one request; the response body is closed at cleanup.
func do(t *testing.T, method, u, body, session, version string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(method, u, strings.NewReader(body))
	setMCPHeaders(req, session, version)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}
