package extproc

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"github.com/tidwall/gjson"
)

// legacyRig is one Server and the ext_proc streams of a legacy HTTP+SSE
// session as Envoy opens them: the GET holding the SSE stream, and one
// stream per message POST.
type legacyRig struct {
	t   *testing.T
	srv *Server
	get *stream
}

func newLegacyRig(t *testing.T, mode Mode, endpoint string) *legacyRig {
	t.Helper()
	srv, err := NewServer(context.Background(), *testPolicy(mode), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	r := &legacyRig{t: t, srv: srv, get: srv.open(context.Background())}
	replies := handleAll(t, r.get,
		reqHeaders(":method", "GET", ":path", "/sse", "accept", "text/event-stream"),
		respHeaders(":status", "200", "content-type", "text/event-stream"),
		respBody("event: endpoint\ndata: "+endpoint+"\n\n", false))
	if m := replies[2].GetResponseBody().GetResponse().GetBodyMutation(); m != nil {
		t.Fatalf("endpoint event changed: %q", m.GetBody())
	}
	return r
}

// post runs one message POST to path and returns what Envoy is told: the
// body forwarded (nil: unchanged) or the local reply's status and body.
func (r *legacyRig) post(path, body string) (forwarded []byte, status int, local []byte) {
	r.t.Helper()
	st := r.srv.open(context.Background())
	replies := handleAll(r.t, st,
		reqHeaders(":method", "POST", ":path", path, "accept", "application/json", "content-type", "application/json"),
		reqBody(body))
	if ir := replies[1].GetImmediateResponse(); ir != nil {
		return nil, int(ir.GetStatus().GetCode()), ir.GetBody()
	}
	br := replies[1].GetRequestBody().GetResponse()
	if m := br.GetBodyMutation(); m != nil {
		forwarded = m.GetBody()
		if cl := headerSet(br.GetHeaderMutation(), "content-length"); cl != fmt.Sprint(len(forwarded)) {
			r.t.Errorf("replaced request body of %d bytes with content-length %q", len(forwarded), cl)
		}
	}
	// The backend acknowledges the POST as a legacy server does.
	handleAll(r.t, st, respHeaders(":status", "202", "content-type", "text/plain"), respBody("Accepted", true))
	return forwarded, 0, nil
}

// answer sends one message event down the GET stream and returns the
// message the client reads.
func (r *legacyRig) answer(msg string) string {
	r.t.Helper()
	reply := handleAll(r.t, r.get, respBody("event: message\ndata: "+msg+"\n\n", false))[0]
	m := reply.GetResponseBody().GetResponse().GetBodyMutation()
	if m == nil {
		return msg
	}
	ev := parseSSEEvent(m.GetBody())
	return string(ev.data)
}

func headerSet(hm *extprocv3.HeaderMutation, key string) string {
	for _, h := range hm.GetSetHeaders() {
		if strings.EqualFold(h.GetHeader().GetKey(), key) {
			return string(h.GetHeader().GetRawValue())
		}
	}
	return ""
}

const (
	deniedCall  = `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"delete_files","arguments":{}}}`
	pingAnswer7 = `{"jsonrpc":"2.0","id":7,"result":{}}`
)

// TestLegacyRefusalOnStream: a refused message POST is forwarded as a
// ping under its id, and the answer to it on the session's SSE stream is
// replaced by the gateway's error, once; other sessions, other ids and
// passive mode are untouched.
func TestLegacyRefusalOnStream(t *testing.T) {
	cases := []struct {
		name      string
		mode      Mode
		endpoint  string // the endpoint event's URL on the GET stream
		path      string // the POST's URL
		body      string
		forwarded string // "" unchanged
		status    int    // local reply, 0 none
		answer    string // the backend's answer on the GET stream
		wantCode  int64  // the error code the client reads; 0: the answer unchanged
	}{
		{"denied call", Active, "/message?sessionId=S1", "/message?sessionId=S1", deniedCall,
			`{"jsonrpc":"2.0","id":7,"method":"ping"}`, 0, pingAnswer7, codePolicyDenied},
		{"Python and Go spellings of the session key", Active, "/messages/?session_id=S1", "/messages/?session_id=S1", deniedCall,
			`{"jsonrpc":"2.0","id":7,"method":"ping"}`, 0, pingAnswer7, codePolicyDenied},
		{"the backend answers with an error", Active, "/message?sessionid=S1", "/message?sessionid=S1", deniedCall,
			`{"jsonrpc":"2.0","id":7,"method":"ping"}`, 0, `{"jsonrpc":"2.0","id":7,"error":{"code":-32601,"message":"Method not found"}}`, codePolicyDenied},
		{"string id, respelled by the backend", Active, "/message?sessionId=S1", "/message?sessionId=S1",
			`{"jsonrpc":"2.0","id":"a\u0062","method":"tools/call","params":{"name":"delete_files"}}`,
			`{"jsonrpc":"2.0","id":"a\u0062","method":"ping"}`, 0, `{"jsonrpc":"2.0","id":"ab","result":{}}`, codePolicyDenied},
		{"another session's stream", Active, "/message?sessionId=S2", "/message?sessionId=S1", deniedCall,
			`{"jsonrpc":"2.0","id":7,"method":"ping"}`, 0, pingAnswer7, 0},
		{"another id", Active, "/message?sessionId=S1", "/message?sessionId=S1", deniedCall,
			`{"jsonrpc":"2.0","id":7,"method":"ping"}`, 0, `{"jsonrpc":"2.0","id":8,"result":{}}`, 0},
		{"allowed call", Active, "/message?sessionId=S1", "/message?sessionId=S1",
			`{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"echo"}}`, "", 0,
			`{"jsonrpc":"2.0","id":7,"result":{"content":[]}}`, 0},
		{"passive mode", Passive, "/message?sessionId=S1", "/message?sessionId=S1", deniedCall, "", 0, pingAnswer7, 0},
		// No stream could deliver the refusal: the send fails.
		{"two sessions in the URL", Active, "/message?sessionId=S1", "/message?sessionId=S1&session_id=S2", deniedCall, "", 403, pingAnswer7, 0},
		// Servers disagree on batches, so a refused one fails the send.
		{"batch", Active, "/message?sessionId=S1", "/message?sessionId=S1", "[" + deniedCall + "]", "", 403, pingAnswer7, 0},
		// Notifications get no answer: the 202 a legacy server sends.
		{"notification", Active, "/message?sessionId=S1", "/message?sessionId=S1",
			`{"jsonrpc":"2.0","method":"tools/call","params":{"name":"delete_files"}}`, "", 202, pingAnswer7, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newLegacyRig(t, c.mode, c.endpoint)
			forwarded, status, local := r.post(c.path, c.body)
			if string(forwarded) != c.forwarded || status != c.status {
				t.Fatalf("POST forwarded %q with local reply %d %q; want %q, %d", forwarded, status, local, c.forwarded, c.status)
			}
			if status == 403 {
				code := gjson.GetBytes(local, "error.code")
				if !code.Exists() {
					code = gjson.GetBytes(local, "0.error.code") // a batch
				}
				if code.Int() != codePolicyDenied {
					t.Errorf("403 body %s lacks the error", local)
				}
			}
			got := r.answer(c.answer)
			if c.wantCode == 0 {
				if got != c.answer {
					t.Fatalf("answer changed to %s", got)
				}
				return
			}
			id := gjson.Get(c.body, "id")
			if gjson.Get(got, "id").Raw != id.Raw || gjson.Get(got, "error.code").Int() != c.wantCode ||
				!strings.Contains(gjson.Get(got, "error.message").String(), `"delete_files" is not allowed`) ||
				gjson.Get(got, "error.data.event_id").String() == "" {
				t.Fatalf("client reads %s, want the gateway's %d error for id %s", got, c.wantCode, id.Raw)
			}
			// Delivered once: the record is gone, a later answer for the
			// id (a reused id) passes.
			if again := r.answer(c.answer); again != c.answer {
				t.Errorf("second answer for the id replaced too: %s", again)
			}
			if n := r.srv.refusals.len(); n != 0 {
				t.Errorf("%d records left after delivery", n)
			}
		})
	}
}

// TestRefusalBookBounds: records expire, the table never holds more than
// its bound (the oldest go first), and take removes what it returns.
func TestRefusalBookBounds(t *testing.T) {
	now := time.Unix(1000, 0)
	b := newRefusalBook()
	b.now = func() time.Time { return now }
	b.max = 3
	for i := range 5 {
		if !b.record("S", fmt.Sprint(i), []byte(fmt.Sprint("body", i))) {
			t.Fatalf("record %d refused", i)
		}
	}
	if n := b.len(); n != 3 {
		t.Fatalf("%d records, want the bound 3", n)
	}
	if _, ok := b.take("S", "0"); ok {
		t.Error("the oldest record survived eviction")
	}
	if body, ok := b.take("S", "4"); !ok || string(body) != "body4" {
		t.Errorf("take 4: %q %v", body, ok)
	}
	if _, ok := b.take("S", "4"); ok {
		t.Error("a taken record was taken twice")
	}
	if _, ok := b.take("T", "3"); ok {
		t.Error("another session took the record")
	}
	now = now.Add(refusalTTL)
	if _, ok := b.take("S", "3"); ok {
		t.Error("an expired record was delivered")
	}
	if n := b.len(); n != 0 {
		t.Errorf("%d records after expiry", n)
	}
	if b.record("", "1", []byte("x")) || b.len() != 0 {
		t.Error("a record without a session was kept")
	}
	if b.record("S", "1", make([]byte, maxRefusalBody+1)) {
		t.Error("an error over maxRefusalBody was kept")
	}
	// The byte budget evicts the oldest records.
	b.maxBytes = 10
	for i := range 3 {
		if !b.record("S", fmt.Sprint(i), []byte("abcd")) {
			t.Fatalf("record %d refused", i)
		}
	}
	if _, ok := b.take("S", "0"); ok || b.len() != 2 || b.bytes != 8 {
		t.Errorf("over the byte budget: %d records, %d bytes", b.len(), b.bytes)
	}
	var none *refusalBook
	none.record("S", "1", nil) // a stream without a book records nothing
	if _, ok := none.take("S", "1"); ok {
		t.Error("nil book delivered")
	}
}

func TestLegacySessionOf(t *testing.T) {
	for query, want := range map[string]string{
		"sessionId=a":              "a",
		"session_id=b&x=1":         "b",
		"sessionid=c":              "c",
		"sessionId=a&sessionid=a":  "a",
		"sessionId=a&session_id=b": "",
		"x=1":                      "",
		"sessionId=%zz":            "",
	} {
		if got := legacySessionOf(query); got != want {
			t.Errorf("legacySessionOf(%q) = %q, want %q", query, got, want)
		}
	}
}
