package extproc

import (
	"strings"
	"testing"
)

// TestMethodTable checks the rows against each other: a row's rules only
// make sense for the peer that sends the method.
func TestMethodTable(t *testing.T) {
	for name, info := range methods {
		if info.from == fromServer && (info.allowlist || info.pinned != nil || info.list != nil || info.notice != nil || info.nameParam != "") {
			t.Errorf("%s: a server message with request or result rules", name)
		}
		if info.from == fromClient && info.replace != nil {
			t.Errorf("%s: a client method with a params replacement", name)
		}
		if (info.list == nil) != (info.listKey == "") {
			t.Errorf("%s: list rule and listKey must come together", name)
		}
		if info.allowlist && info.nameParam == "" {
			t.Errorf("%s: allowlisted without a name", name)
		}
		if known, near := nearMethod(name); near {
			t.Errorf("%s: a known method is reported as a variant of %s", name, known)
		}
	}
	for _, m := range []string{"tools/call", "tools/list", "initialize", "server/discover", "sampling/createMessage",
		"elicitation/create", "notifications/message", "notifications/progress", "tasks/result", "tasks/get",
		"completion/complete", "prompts/list", "resources/list", "resources/templates/list", "resources/read"} {
		if _, ok := lookupMethod(m); !ok {
			t.Errorf("%s has no row", m)
		}
	}
}

func TestNearMethod(t *testing.T) {
	tests := []struct {
		method, want string
	}{
		{"Tools/Call", "tools/call"},
		{"tools/call ", "tools/call"},
		{"tools/call\x00", "tools/call"},
		{"\ttools/list", "tools/list"},
		{"tools/\u200bcall", "tools/call"},
		{"PING", "ping"},
		{"tools/call", ""},
		{"tools/calls", ""},
		{"vendor/Tools/Call", ""},
		{"", ""},
	}
	for _, tt := range tests {
		got, ok := nearMethod(tt.method)
		if ok != (tt.want != "") || got != tt.want {
			t.Errorf("nearMethod(%q) = %q, %v; want %q", tt.method, got, ok, tt.want)
		}
	}
}

// TestParseMethodWithResponse: class 1 of issue 14. A message with a
// method is a request whatever else it carries; the old parser called it
// a response, and judgeRequest skipped responses.
func TestParseMethodWithResponse(t *testing.T) {
	for _, body := range []string{
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"denied"},"result":{}}`,
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"denied"},"result":null}`,
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"denied"},"error":{"code":1,"message":"x"}}`,
		`{"result":{},"jsonrpc":"2.0","id":1,"method":"tools/call"}`,
		`[{"jsonrpc":"2.0","id":2,"method":"ping"},{"jsonrpc":"2.0","id":1,"method":"tools/call","result":{}}]`,
	} {
		if _, _, err := parseBody([]byte(body)); err == nil || !strings.Contains(err.Error(), "both a method and a result") {
			t.Errorf("parseBody(%s) = %v, want errMethodAndResponse", body, err)
		}
	}
	if _, _, err := parseBody([]byte(`{"jsonrpc":"2.0","id":1,"result":{}}`)); err != nil {
		t.Errorf("a plain response: %v", err)
	}
}

func TestSmuggledCallRefused(t *testing.T) {
	body := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"delete_files"},"result":{}}`
	replies, logs := drive(t, testPolicy(Active), reqBody(body))
	ir := replies[0].GetImmediateResponse()
	if ir == nil || ir.Status.Code != 400 || !strings.Contains(string(ir.Body), `"code":-32600`) {
		t.Fatalf("smuggled call: %v, want 400 -32600", ir)
	}
	if !strings.Contains(logs, `"event":"bad_request"`) {
		t.Errorf("log lacks bad_request: %s", logs)
	}
}

func TestMcpHeaders(t *testing.T) {
	call := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo"}}`
	tests := []struct {
		name    string
		headers []string
		body    string
		reject  bool
	}{
		{"agree", []string{"mcp-method", "tools/call", "mcp-name", "echo"}, call, false},
		{"absent", nil, call, false},
		{"method differs", []string{"mcp-method", "tools/list"}, call, true},
		{"name differs", []string{"mcp-method", "tools/call", "mcp-name", "add"}, call, true},
		{"name on a method without one is not read", []string{"mcp-method", "ping", "mcp-name", "x"}, `{"jsonrpc":"2.0","id":1,"method":"ping"}`, false},
		{"batch checked per message", []string{"mcp-method", "tools/list"}, `[` + call + `]`, true},
		{"batch agreeing", []string{"mcp-method", "tools/call"}, `[` + call + `,` + call + `]`, false},
		{"method repeated alike", []string{"mcp-method", "tools/call", "mcp-method", "tools/call"}, call, false},
		{"method repeated unlike", []string{"mcp-method", "tools/call", "mcp-method", "tools/list"}, call, true},
		{"name base64-encoded", []string{"mcp-method", "tools/call", "mcp-name", "=?base64?ZWNobw==?="}, call, false},
		{"name base64 of another", []string{"mcp-method", "tools/call", "mcp-name", "=?base64?YWRk?="}, call, true},
		{"uri differs", []string{"mcp-method", "resources/read", "mcp-name", "file:///b"}, `{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri":"file:///a"}}`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			replies, _ := drive(t, testPolicy(Active), reqHeaders(tt.headers...), reqBody(tt.body))
			ir := replies[1].GetImmediateResponse()
			if (ir != nil) != tt.reject {
				t.Fatalf("rejected = %v, want %v", ir != nil, tt.reject)
			}
			if ir != nil && (ir.Status.Code != 400 || !strings.Contains(string(ir.Body), `"code":-32020`) || !strings.Contains(string(ir.Body), `"id":1`)) {
				t.Errorf("got %d %s, want 400 -32020 for id 1", ir.Status.Code, ir.Body)
			}
		})
	}
}
