package extproc

import (
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"

	"strings"
	"testing"
)

func nested(depth int, open, close, inner string) string {
	return strings.Repeat(open, depth) + inner + strings.Repeat(close, depth)
}

// TestDepthBound checks that bodies nested past max_json_depth are refused
// in active mode and passed, logged, in passive mode, for requests, JSON
// responses and SSE events, and that bodies at the bound are judged.
func TestDepthBound(t *testing.T) {
	call := reqBody(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo"}}`)
	deepArgs := func(d int) string {
		return `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"a":` + nested(d, "[", "]", "1") + `}}}`
	}
	deepResult := func(d int) string {
		return `{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"ok"}],"structuredContent":{"x":` + nested(d, `{"a":`, "}", "1") + `}}}`
	}
	tests := []struct {
		name    string
		request string // "" : the echo call
		ctype   string // response content type; "" : no response
		resp    string
		active  string // substring of the active reply ("" : passes unchanged)
	}{
		{"request at the bound", deepArgs(61), "", "", ""},
		{"request past the bound", deepArgs(62), "", "", `"code":-32600,"message":"mcpgate: request nests deeper than max_json_depth 64"`},
		{"40k brackets request", nested(40000, "[", "]", ""), "", "", "max_json_depth 64"},
		{"brackets inside strings do not count", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"a":"` + strings.Repeat("[", 5000) + `"}}}`, "", "", ""},
		{"response at the bound", "", "application/json", deepResult(61), ""},
		{"response past the bound", "", "application/json", deepResult(62), `"code":-32003,"message":"mcpgate: response nests deeper than max_json_depth 64"`},
		{"40k objects response", "", "application/json", nested(40000, `{"a":`, "}", "1"), "max_json_depth 64"},
		{"deep SSE event", "", "text/event-stream", "data: " + nested(1000, "[", "]", "") + "\n\n", "max_json_depth 64"},
	}
	for _, tt := range tests {
		for _, mode := range []Mode{Active, Passive} {
			t.Run(tt.name+"/"+string(mode), func(t *testing.T) {
				p := testPolicy(mode)
				p.MaxBodyBytes = DefaultMaxBodyBytes
				req := call
				if tt.request != "" {
					req = reqBody(tt.request)
				}
				msgs := []*extprocv3.ProcessingRequest{req}
				if tt.ctype != "" {
					msgs = append(msgs, respHeaders(":status", "200", "content-type", tt.ctype), respBody(tt.resp, true))
				}
				replies, logs := drive(t, p, msgs...)
				last := replies[len(replies)-1]
				got := ""
				if ir := replies[0].GetImmediateResponse(); ir != nil {
					got = string(ir.Body)
				} else if b, ok := replaced(last); ok && len(replies) > 1 {
					got = string(b)
				}
				want := tt.active
				if mode == Passive {
					if got != "" {
						t.Fatalf("passive changed the exchange: %.200s", got)
					}
					if want != "" && !strings.Contains(logs, `"would_action":`) {
						t.Fatalf("passive log lacks would_action: %.300s", logs)
					}
					return
				}
				if want == "" && got != "" {
					t.Fatalf("refused %.200s, want pass", got)
				}
				if !strings.Contains(got, want) {
					t.Fatalf("got %.300s, want %s", got, want)
				}
			})
		}
	}
}

func TestMaxJSONDepthOverride(t *testing.T) {
	p := testPolicy(Active)
	p.MaxJSONDepth = 10
	body := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"a":` + nested(8, "[", "]", "") + `}}}`
	replies, _ := drive(t, p, reqBody(body))
	if ir := replies[0].GetImmediateResponse(); ir == nil || !strings.Contains(string(ir.Body), "max_json_depth 10") {
		t.Fatalf("depth 11 under max_json_depth 10 passed: %v", replies[0])
	}
}

func TestFieldPath(t *testing.T) {
	p := indexStep(keyStep(keyStep(nil, "content"), strings.Repeat("k", 100)), 3)
	want := "content." + strings.Repeat("k", 64) + "…[3]"
	if got := p.String(); got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	if got := indexStep(nil, 0).String(); got != "[0]" {
		t.Fatalf("root element: %q", got)
	}
	if got := (*fieldPath)(nil).String(); got != "" {
		t.Fatalf("root: %q", got)
	}
}
