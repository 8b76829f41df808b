package stdiobridge

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/stdiobridge/stdiotest"
)

const (
	rawInit        = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{"sampling":{}},"clientInfo":{"name":"raw","version":"0"}}}`
	rawInitialized = `{"jsonrpc":"2.0","method":"notifications/initialized"}`
	rawList        = `{"jsonrpc":"2.0","id":2,"method":"tools/list"}`
	rawProgress    = `{"jsonrpc":"2.0","id":"three","method":"tools/call","params":{"name":"progress","arguments":{},"_meta":{"progressToken":7}}}`
)

// directServer is the stdio server without the bridge.
type directServer struct {
	in  io.WriteCloser
	out *bufio.Scanner
}

func startDirect(t *testing.T) *directServer {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), stdiotest.EnvVar+"=1")
	in, _ := cmd.StdinPipe()
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { in.Close(); _ = cmd.Wait() })
	sc := bufio.NewScanner(out)
	sc.Buffer(nil, 1<<20)
	return &directServer{in: in, out: sc}
}

// send writes a line and returns the next n lines the server prints.
func (d *directServer) send(t *testing.T, line string, n int) []string {
	t.Helper()
	if _, err := io.WriteString(d.in, line+"\n"); err != nil {
		t.Fatal(err)
	}
	var got []string
	for len(got) < n && d.out.Scan() {
		got = append(got, d.out.Text())
	}
	if len(got) < n {
		t.Fatalf("server printed %q, want %d lines", got, n)
	}
	return got
}

type rawResponse struct {
	status  int
	ctype   string
	session string
	body    string
	events  []string // SSE data, one per event
}

func rawDo(t *testing.T, method, url, session, body string, hdr ...string) rawResponse {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	if session != "" {
		req.Header.Set(sessionHeader, session)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		if strings.EqualFold(hdr[i], "Host") {
			req.Host = hdr[i+1]
		} else {
			req.Header.Set(hdr[i], hdr[i+1])
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	r := rawResponse{status: resp.StatusCode, ctype: resp.Header.Get("Content-Type"), session: resp.Header.Get(sessionHeader), body: string(b)}
	if r.ctype == "text/event-stream" {
		for _, ev := range strings.Split(r.body, "\n\n") {
			for _, line := range strings.Split(ev, "\n") {
				if d, ok := strings.CutPrefix(line, "data: "); ok {
					r.events = append(r.events, d)
				}
			}
		}
	}
	return r
}

// TestBytesUnchanged: what a client gets through the bridge is, byte for
// byte, what the server prints on stdout (pins hash these bytes), as
// application/json and as SSE events.
func TestBytesUnchanged(t *testing.T) {
	d := startDirect(t)
	want := d.send(t, rawInit, 1)
	d.send(t, rawInitialized, 0)
	want = append(want, d.send(t, rawList, 1)...)
	want = append(want, d.send(t, rawProgress, 3)...) // 2 progress notifications, the result
	tb := startBridge(t, "1")
	// Pretty-printed: compacted to one line, which the server reads the same.
	pretty := strings.ReplaceAll(strings.ReplaceAll(rawInit, `,"`, ",\n  \""), `{"`, "{\r\n  \"")
	init := rawDo(t, "POST", tb.url, "", pretty)
	if init.status != 200 || init.ctype != "application/json" || init.session == "" || init.body != want[0] {
		t.Fatalf("initialize: %+v\nwant body %s", init, want[0])
	}
	if r := rawDo(t, "POST", tb.url, init.session, rawInitialized); r.status != http.StatusAccepted || r.body != "" {
		t.Fatalf("notification: %+v, want 202 and no body", r)
	}
	if r := rawDo(t, "POST", tb.url, init.session, rawList); r.ctype != "application/json" || r.body != want[1] {
		t.Errorf("tools/list body\n%s\nwant\n%s", r.body, want[1])
	}
	r := rawDo(t, "POST", tb.url, init.session, rawProgress)
	if r.ctype != "text/event-stream" || strings.Join(r.events, "\n") != strings.Join(want[2:], "\n") {
		t.Errorf("progress call: %s events\n%s\nwant\n%s", r.ctype, strings.Join(r.events, "\n"), strings.Join(want[2:], "\n"))
	}
}

// TestIDsAndServerRequests: a server request during a call rides that
// call's SSE stream; ids 9 and "9" are different requests in flight at
// once; the client's answer (a POST of a response) gets 202.
func TestIDsAndServerRequests(t *testing.T) {
	tb := startBridge(t, "1")
	init := rawDo(t, "POST", tb.url, "", rawInit)
	rawDo(t, "POST", tb.url, init.session, rawInitialized)

	req, _ := http.NewRequest("POST", tb.url, strings.NewReader(`{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"sample","arguments":{"text":"q"}}}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set(sessionHeader, init.session)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	events := bufio.NewReader(resp.Body)
	next := func() string {
		t.Helper()
		for {
			line, err := events.ReadString('\n')
			if err != nil {
				t.Fatalf("stream ended: %v", err)
			}
			if d, ok := strings.CutPrefix(strings.TrimSuffix(line, "\n"), "data: "); ok {
				return d
			}
		}
	}
	sampling := next()
	if !strings.Contains(sampling, `"method":"sampling/createMessage"`) {
		t.Fatalf("first event %s, want the sampling request", sampling)
	}
	// While 9 waits for sampling, "9" is another request.
	if r := rawDo(t, "POST", tb.url, init.session, `{"jsonrpc":"2.0","id":"9","method":"tools/call","params":{"name":"echo","arguments":{"text":"x"}}}`); r.ctype != "application/json" || !strings.Contains(r.body, `"id":"9"`) || !strings.Contains(r.body, `"text":"x"`) {
		t.Fatalf(`echo with id "9": %+v`, r)
	}
	sid := sampling[strings.Index(sampling, `"id":`)+5:]
	sid = sid[:strings.IndexAny(sid, ",}")]
	answer := `{"jsonrpc":"2.0","id":` + sid + `,"result":{"model":"m","role":"assistant","content":{"type":"text","text":"42"}}}`
	if r := rawDo(t, "POST", tb.url, init.session, answer); r.status != http.StatusAccepted {
		t.Fatalf("sampling answer: %+v", r)
	}
	if res := next(); !strings.Contains(res, `"id":9`) || !strings.Contains(res, "model said: 42") {
		t.Errorf("call 9 result %s", res)
	}
}

func TestHTTPErrors(t *testing.T) {
	tb := startBridge(t, "1")
	init := rawDo(t, "POST", tb.url, "", rawInit)
	if init.session == "" {
		t.Fatalf("initialize: %+v", init)
	}
	ended := rawDo(t, "POST", tb.url, "", rawInit).session
	if r := rawDo(t, "DELETE", tb.url, ended, ""); r.status != http.StatusNoContent {
		t.Fatalf("DELETE: %+v", r)
	}
	tests := []struct {
		name, method, session, body string
		hdr                         []string
		status                      int
		want                        string
	}{
		{"request without session", "POST", "", rawList, nil, 400, `"code":-32600`},
		{"batch without session", "POST", "", "[" + rawInit + "]", nil, 400, "header required"},
		{"unknown session", "POST", "nope", rawList, nil, 404, "Session not found"},
		{"ended session", "POST", ended, rawList, nil, 404, "Session not found"},
		{"not JSON", "POST", init.session, `{"jsonrpc":`, nil, 400, `"code":-32700`},
		{"not JSON-RPC", "POST", init.session, `{"hello":1}`, nil, 400, `"code":-32700`},
		{"content type", "POST", init.session, rawList, []string{"Content-Type", "text/plain"}, 415, "application/json"},
		{"GET without session", "GET", "", "", nil, 400, "header required"},
		{"DELETE unknown", "DELETE", "nope", "", nil, 404, "Session not found"},
		{"PUT", "PUT", init.session, "", nil, 405, "Method Not Allowed"},
		{"rebinding Host", "POST", init.session, rawList, []string{"Host", "evil.example:10000"}, 403, "invalid Host"},
		{"foreign Origin", "POST", init.session, rawList, []string{"Origin", "http://evil.example"}, 403, "invalid Origin"},
		{"loopback Origin", "POST", init.session, rawList, []string{"Origin", "http://localhost:6274"}, 200, `"tools"`},
		{"duplicate in batch", "POST", init.session, "[" + rawList + "," + rawList + "]", nil, 400, "already in flight"},
		{"batch", "POST", init.session, "[" + rawList + "," + strings.Replace(rawList, `"id":2`, `"id":"2"`, 1) + "]", nil, 200, `"id":"2"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := rawDo(t, tt.method, tb.url, tt.session, tt.body, tt.hdr...)
			if r.status != tt.status || !strings.Contains(r.body, tt.want) {
				t.Errorf("%d %q, want %d containing %q", r.status, r.body, tt.status, tt.want)
			}
		})
	}
}

// TestGETStream: what the server sends with no POST in flight waits in
// the backlog and comes out on the GET stream.
func TestGETStream(t *testing.T) {
	tb := startBridge(t, "1")
	init := rawDo(t, "POST", tb.url, "", rawInit)
	rawDo(t, "POST", tb.url, init.session, rawInitialized)
	s := tb.onlySession(t)
	// A server message with nothing in flight and no GET stream open.
	s.fromChild([]byte(`{"jsonrpc":"2.0","method":"notifications/tools/list_changed"}`))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", tb.url, nil)
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set(sessionHeader, init.session)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	line, err := br.ReadString('\n')
	for err == nil && !strings.HasPrefix(line, "data: ") {
		line, err = br.ReadString('\n')
	}
	if resp.Header.Get("Content-Type") != "text/event-stream" || !bytes.Contains([]byte(line), []byte("list_changed")) {
		t.Errorf("GET stream: %s, first data %q (%v)", resp.Header.Get("Content-Type"), line, err)
	}
}

// TestSessionLimit: at MaxSessions a new session replaces the longest
// idle one (a client gone without DELETE), which then answers 404; a
// session with its GET stream open is not idle, and then the new one is
// refused with 429.
func TestSessionLimit(t *testing.T) {
	tb := startBridge(t, "1", func(c *Config) { c.MaxSessions = 2 })
	first := rawDo(t, "POST", tb.url, "", rawInit)
	second := rawDo(t, "POST", tb.url, "", rawInit)
	rawDo(t, "POST", tb.url, first.session, rawList) // first used after second: second is the idlest
	third := rawDo(t, "POST", tb.url, "", rawInit)
	if third.status != 200 || third.session == "" {
		t.Fatalf("third initialize: %+v", third)
	}
	if r := rawDo(t, "POST", tb.url, second.session, rawList); r.status != http.StatusNotFound {
		t.Errorf("evicted session answered %+v, want 404", r)
	}
	if r := rawDo(t, "POST", tb.url, first.session, rawList); r.status != 200 {
		t.Errorf("the session used last was evicted: %+v", r)
	}
	// Both sessions hold a GET stream: none is idle.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for _, id := range []string{first.session, third.session} {
		req, _ := http.NewRequestWithContext(ctx, "GET", tb.url, nil)
		req.Header.Set("Accept", "text/event-stream")
		req.Header.Set(sessionHeader, id)
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("GET: %v %v", resp, err)
		}
		defer resp.Body.Close()
	}
	if r := rawDo(t, "POST", tb.url, "", rawInit); r.status != http.StatusTooManyRequests || !strings.Contains(r.body, "too many sessions") {
		t.Errorf("initialize with every session busy: %+v, want 429", r)
	}
}

// TestCancelEndsStream: the client's notifications/cancelled ends the
// cancelled request's SSE stream, which would otherwise wait for an
// answer the server need not send.
func TestCancelEndsStream(t *testing.T) {
	tb := startBridge(t, "1")
	init := rawDo(t, "POST", tb.url, "", rawInit)
	rawDo(t, "POST", tb.url, init.session, rawInitialized)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "POST", tb.url, strings.NewReader(`{"jsonrpc":"2.0","id":"c","method":"tools/call","params":{"name":"sample","arguments":{"text":"q"}}}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set(sessionHeader, init.session)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	if line, err := br.ReadString('\n'); err != nil || !strings.HasPrefix(line, "event: message") {
		t.Fatalf("first line %q, %v; want the sampling request's event", line, err)
	}
	if r := rawDo(t, "POST", tb.url, init.session, `{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"c"}}`); r.status != http.StatusAccepted {
		t.Fatalf("cancel: %+v", r)
	}
	rest, err := io.ReadAll(br)
	if err != nil || strings.Contains(string(rest), `"id":"c"`) {
		t.Errorf("after cancel the stream gave %q, %v; want its end and no response", rest, err)
	}
}
