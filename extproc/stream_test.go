package extproc

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"strings"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
)

const toolsListResult = `{"jsonrpc":"2.0","id":2,"result":{"tools":[{"name":"echo","inputSchema":{"type":"object"}},{"name":"delete_files","inputSchema":{"type":"object"}}]}}`

func testPolicy(mode Mode) *Policy {
	p := DefaultPolicy()
	p.Mode = mode
	p.MaxBodyBytes = 4096
	p.Backends = map[string]BackendPolicy{DefaultBackend: {AllowedTools: []string{"echo", "ad?"}}}
	p.Pinning.Disabled = true // pins_test.go turns it on with a store of its own
	return &p
}

func reqBody(body string) *extprocv3.ProcessingRequest {
	return &extprocv3.ProcessingRequest{Request: &extprocv3.ProcessingRequest_RequestBody{
		RequestBody: &extprocv3.HttpBody{Body: []byte(body), EndOfStream: true}}}
}

// headerMap builds a header map from key, value pairs.
func headerMap(kv ...string) *extprocv3.HttpHeaders {
	hm := &corev3.HeaderMap{}
	for i := 0; i+1 < len(kv); i += 2 {
		hm.Headers = append(hm.Headers, &corev3.HeaderValue{Key: kv[i], RawValue: []byte(kv[i+1])})
	}
	return &extprocv3.HttpHeaders{Headers: hm}
}

func reqHeaders(kv ...string) *extprocv3.ProcessingRequest {
	return &extprocv3.ProcessingRequest{Request: &extprocv3.ProcessingRequest_RequestHeaders{RequestHeaders: headerMap(kv...)}}
}

func respHeaders(kv ...string) *extprocv3.ProcessingRequest {
	return &extprocv3.ProcessingRequest{Request: &extprocv3.ProcessingRequest_ResponseHeaders{ResponseHeaders: headerMap(kv...)}}
}

func respBody(body string, eos bool) *extprocv3.ProcessingRequest {
	return &extprocv3.ProcessingRequest{Request: &extprocv3.ProcessingRequest_ResponseBody{
		ResponseBody: &extprocv3.HttpBody{Body: []byte(body), EndOfStream: eos}}}
}

// drive runs messages through one stream, returning the replies and the log.
func drive(t *testing.T, p *Policy, msgs ...*extprocv3.ProcessingRequest) ([]*extprocv3.ProcessingResponse, string) {
	t.Helper()
	return driveBackend(t, p, DefaultBackend, msgs...)
}

// driveWith is drive with a scanner of the caller's.
func driveWith(t *testing.T, p *Policy, sc contentScanner, msgs ...*extprocv3.ProcessingRequest) ([]*extprocv3.ProcessingResponse, string) {
	t.Helper()
	var logs bytes.Buffer
	st := newStream("test", slogTo(&logs), p, sc, DefaultBackend)
	return handleAll(t, st, msgs...), logs.String()
}

// handleAll feeds msgs to st as Envoy would and returns the replies.
func handleAll(t *testing.T, st *stream, msgs ...*extprocv3.ProcessingRequest) []*extprocv3.ProcessingResponse {
	t.Helper()
	var out []*extprocv3.ProcessingResponse
	for _, m := range msgs {
		r, err := st.handle(context.Background(), m)
		if err != nil {
			t.Fatalf("handle: %v", err)
		}
		out = append(out, r)
	}
	return out
}

// replaced returns the body a reply substitutes, and whether it does.
func replaced(r *extprocv3.ProcessingResponse) ([]byte, bool) {
	var c *extprocv3.CommonResponse
	switch v := r.Response.(type) {
	case *extprocv3.ProcessingResponse_RequestBody:
		c = v.RequestBody.GetResponse()
	case *extprocv3.ProcessingResponse_ResponseBody:
		c = v.ResponseBody.GetResponse()
	}
	if b, ok := c.GetBodyMutation().GetMutation().(*extprocv3.BodyMutation_Body); ok {
		return b.Body, true
	}
	return nil, false
}

func TestRequestPolicy(t *testing.T) {
	tests := []struct {
		name       string
		mode       Mode
		body       string
		wantStatus int    // 0: passed on
		wantBody   string // substring of the immediate response
		wantLog    string
	}{
		{"allowed tool", Active, `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{}}}`, 0, "", ""},
		{"glob allowed", Active, `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"add"}}`, 0, "", ""},
		{"denied tool, big id echoed", Active, `{"jsonrpc":"2.0","id":12345678901234567890123,"method":"tools/call","params":{"name":"delete_files"}}`,
			200, `"id":12345678901234567890123,"error":{"code":-32001,"message":"mcpgate: tool \"delete_files\" is not allowed by policy tool_allowlist`, `"action":"reject"`},
		{"denied tool passive", Passive, `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"delete_files"}}`, 0, "", `"action":"pass","would_action":"reject"`},
		{"batch with a denied call", Active, `[{"jsonrpc":"2.0","id":"a","method":"tools/call","params":{"name":"echo"}},{"jsonrpc":"2.0","id":"b","method":"tools/call","params":{"name":"delete_files"}},{"jsonrpc":"2.0","method":"notifications/x"}]`,
			200, `[{"jsonrpc":"2.0","id":"a","error":{"code":-32001`, `"batch":true`},
		{"duplicate tool name", Active, `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","name":"delete_files"}}`, 400, `duplicate key \"name\"`, "bad_request"},
		{"case-variant method", Active, `{"jsonrpc":"2.0","id":1,"method":"tools/list","Method":"tools/call","params":{"name":"delete_files"}}`, 400, `case variant`, "bad_request"},
		{"malformed JSON", Active, `{"jsonrpc":"2.0","id":1,`, 400, `"code":-32700`, "bad_request"},
		{"invalid UTF-8", Active, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"ec\xffho\"}}", 400, `not valid UTF-8`, "bad_request"},
		{"malformed passive", Passive, `nope`, 0, "", `"action":"pass","would_action":"reject"`},
		{"too large", Passive, `{"jsonrpc":"2.0","id":1,"method":"ping","params":{"x":"` + strings.Repeat("a", 5000) + `"}}`, 413, `larger than 4096 bytes`, "body_too_large"},
		{"object id is invalid", Active, `{"jsonrpc":"2.0","id":{"x":1},"method":"ping"}`, 400, `id is not a string`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			replies, logs := drive(t, testPolicy(tt.mode), reqBody(tt.body))
			ir := replies[0].GetImmediateResponse()
			if tt.wantStatus == 0 {
				if ir != nil {
					t.Fatalf("rejected with %d %s, want pass", ir.Status.Code, ir.Body)
				}
				if _, ok := replaced(replies[0]); ok {
					t.Fatal("body replaced, want pass")
				}
			} else {
				if ir == nil {
					t.Fatalf("passed, want %d", tt.wantStatus)
				}
				if int(ir.Status.Code) != tt.wantStatus || !strings.Contains(string(ir.Body), tt.wantBody) {
					t.Errorf("got %d %s, want %d containing %s", ir.Status.Code, ir.Body, tt.wantStatus, tt.wantBody)
				}
				if !json.Valid(ir.Body) {
					t.Errorf("reply is not valid JSON: %s", ir.Body)
				}
			}
			if !strings.Contains(logs, tt.wantLog) {
				t.Errorf("log %s lacks %s", logs, tt.wantLog)
			}
		})
	}
}

func gz(s string) string {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write([]byte(s))
	w.Close()
	return b.String()
}

func TestResponsePolicy(t *testing.T) {
	listReq := reqBody(`{"jsonrpc":"2.0","id":2,"method":"tools/list"}`)
	sse := "event: message\ndata: " + toolsListResult + "\n\n"
	tests := []struct {
		name    string
		mode    Mode
		msgs    []*extprocv3.ProcessingRequest
		want    string // body the client ends with
		wantLog string
	}{
		{"json filtered", Active, []*extprocv3.ProcessingRequest{listReq,
			respHeaders(":status", "200", "content-type", "application/json"), respBody(toolsListResult, true)},
			`{"jsonrpc":"2.0","id":2,"result":{"tools":[{"name":"echo","inputSchema":{"type":"object"}}]}}`, `"tools":["delete_files"]`},
		{"json passive unchanged", Passive, []*extprocv3.ProcessingRequest{listReq,
			respHeaders(":status", "200", "content-type", "application/json; charset=utf-8"), respBody(toolsListResult, true)},
			toolsListResult, `"action":"pass","would_action":"mutate"`},
		{"unseen request classified by shape", Active, []*extprocv3.ProcessingRequest{
			respHeaders(":status", "200", "content-type", "text/event-stream"), respBody(sse, false), respBody("", true)},
			"event: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":2,\"result\":{\"tools\":[{\"name\":\"echo\",\"inputSchema\":{\"type\":\"object\"}}]}}\n\n", "tools_filtered"},
		{"sse split across chunks", Active, []*extprocv3.ProcessingRequest{listReq,
			respHeaders(":status", "200", "content-type", "text/event-stream"),
			respBody(": ping\n\n"+sse[:10], false), respBody(sse[10:40], false), respBody(sse[40:]+"data: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/x\"}\n\n", false), respBody("", true)},
			": ping\n\nevent: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":2,\"result\":{\"tools\":[{\"name\":\"echo\",\"inputSchema\":{\"type\":\"object\"}}]}}\n\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/x\"}\n\n", "tools_filtered"},
		{"gzip json filtered", Active, []*extprocv3.ProcessingRequest{listReq,
			respHeaders(":status", "200", "content-type", "application/json", "content-encoding", "gzip"), respBody(gz(toolsListResult), true)},
			`{"jsonrpc":"2.0","id":2,"result":{"tools":[{"name":"echo","inputSchema":{"type":"object"}}]}}`, "tools_filtered"},
		{"gzip json clean passes compressed", Active, []*extprocv3.ProcessingRequest{reqBody(`{"jsonrpc":"2.0","id":3,"method":"ping"}`),
			respHeaders(":status", "200", "content-type", "application/json", "content-encoding", "gzip"), respBody(gz(`{"jsonrpc":"2.0","id":3,"result":{}}`), true)},
			gz(`{"jsonrpc":"2.0","id":3,"result":{}}`), ""},
		{"corrupt gzip withheld", Active, []*extprocv3.ProcessingRequest{listReq,
			respHeaders(":status", "200", "content-type", "application/json", "content-encoding", "gzip"), respBody("this is not a gzip stream at all", true)},
			`{"jsonrpc":"2.0","id":2,"error":{"code":-32003,"message":"mcpgate: gzip response could not be decoded: gzip header: gzip: invalid header"}}`, "uninspectable_response"},
		{"invalid UTF-8 response withheld", Active, []*extprocv3.ProcessingRequest{listReq,
			respHeaders(":status", "200", "content-type", "application/json"), respBody("{\"jsonrpc\":\"2.0\",\"id\":2,\"result\":{\"x\":\"\xff\"}}", true)},
			`{"jsonrpc":"2.0","id":2,"error":{"code":-32003,"message":"mcpgate: response is not valid UTF-8 JSON"}}`, "malformed_response"},
		{"duplicate tools key withheld", Active, []*extprocv3.ProcessingRequest{listReq,
			respHeaders(":status", "200", "content-type", "application/json"), respBody(`{"jsonrpc":"2.0","id":2,"result":{"tools":[],"tools":[{"name":"delete_files"}]}}`, true)},
			`{"jsonrpc":"2.0","id":2,"error":{"code":-32003,"message":"mcpgate: result has duplicate key \"tools\""}}`, "ambiguous_response"},
		{"oversized sse event withheld", Active, []*extprocv3.ProcessingRequest{listReq,
			respHeaders(":status", "200", "content-type", "text/event-stream"),
			respBody("data: "+strings.Repeat("x", 5000), false), respBody("\n\ndata: {}\n\n", false), respBody("", true)},
			"data: {\"jsonrpc\":\"2.0\",\"id\":2,\"error\":{\"code\":-32003,\"message\":\"mcpgate: SSE event larger than 4096 bytes withheld (event test-1)\"}}\n\ndata: {}\n\n", "sse_event_too_large"},
		{"priming event with empty data passes", Active, []*extprocv3.ProcessingRequest{listReq,
			respHeaders(":status", "200", "content-type", "text/event-stream"), respBody("id: s_0\ndata: \n\n"+sse, false), respBody("", true)},
			"id: s_0\ndata: \n\nevent: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":2,\"result\":{\"tools\":[{\"name\":\"echo\",\"inputSchema\":{\"type\":\"object\"}}]}}\n\n", "tools_filtered"},
		{"broken sse stream passes its tail", Active, []*extprocv3.ProcessingRequest{listReq,
			respHeaders(":status", "200", "content-type", "text/event-stream"), respBody("data: {\"jsonrpc\":\"2.0\",\"id\":9,\"result\":{}}\n\ndata: {\"jso", true)},
			"data: {\"jsonrpc\":\"2.0\",\"id\":9,\"result\":{}}\n\ndata: {\"jso", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			replies, logs := drive(t, testPolicy(tt.mode), tt.msgs...)
			var got []byte
			for i, r := range replies {
				body, ok := r.Response.(*extprocv3.ProcessingResponse_ResponseBody)
				if !ok {
					continue
				}
				if b, ok := replaced(r); ok {
					got = append(got, b...)
					if cl := body.ResponseBody.Response.GetHeaderMutation().GetSetHeaders(); len(cl) > 0 && string(cl[0].Header.RawValue) != itoa(len(b)) {
						t.Errorf("content-length %s for a %d-byte body", cl[0].Header.RawValue, len(b))
					}
				} else {
					got = append(got, tt.msgs[i].GetResponseBody().Body...)
				}
			}
			if string(got) != tt.want {
				t.Errorf("client gets\n%q\nwant\n%q", got, tt.want)
			}
			if !strings.Contains(logs, tt.wantLog) {
				t.Errorf("log %s lacks %s", logs, tt.wantLog)
			}
		})
	}
}

func TestResponseModes(t *testing.T) {
	tests := []struct {
		name    string
		mode    Mode
		headers []string
		want    bodyMode
		reject  bool
	}{
		{"json buffered", Active, []string{"content-type", "application/json"}, bodyBuffered, false},
		{"sse streamed", Active, []string{"content-type", "text/event-stream"}, bodyStreamed, false},
		{"other untouched", Active, []string{"content-type", "text/plain"}, bodyNone, false},
		{"brotli rejected", Active, []string{"content-type", "application/json", "content-encoding", "br"}, bodyNone, true},
		{"gzip sse rejected", Active, []string{"content-type", "text/event-stream", "content-encoding", "gzip"}, bodyNone, true},
		{"brotli passive passes", Passive, []string{"content-type", "application/json", "content-encoding", "br"}, bodyNone, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			replies, _ := drive(t, testPolicy(tt.mode), respHeaders(append([]string{":status", "200"}, tt.headers...)...))
			r := replies[0]
			if got := r.GetImmediateResponse() != nil; got != tt.reject {
				t.Fatalf("rejected = %v, want %v", got, tt.reject)
			}
			if tt.reject {
				return
			}
			if got := r.GetModeOverride().GetResponseBodyMode(); got != tt.want.override().ResponseBodyMode {
				t.Errorf("body mode %v, want %v", got, tt.want.override().ResponseBodyMode)
			}
		})
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }
