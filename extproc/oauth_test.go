package extproc

import (
	"bytes"
	"context"
	"log/slog"
	"testing"

	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/grpc/metadata"
)

func TestResourceMetadataRewrite(t *testing.T) {
	const prm = `{"resource":"http://localhost:3001/mcp","authorization_servers":["http://localhost:3001"],"scopes_supported":["a"]}`
	tests := []struct {
		name       string
		public     string // x-mcpgate-public-url; "" = none
		msgs       []*extprocv3.ProcessingRequest
		wantHeader string // www-authenticate set in the response-headers reply
		wantBody   string // body the client gets ("" = unchanged)
		wantMode   bool   // response-headers reply asks for the body
	}{
		{name: "challenge rewritten", public: "http://127.0.0.1:10000",
			msgs: []*extprocv3.ProcessingRequest{reqHeaders(":path", "/mcp", ":method", "POST"),
				respHeaders(":status", "401", "www-authenticate", `Bearer error="invalid_token", resource_metadata="http://localhost:3001/.well-known/oauth-protected-resource/mcp", scope="a b"`)},
			wantHeader: `Bearer error="invalid_token", resource_metadata="http://127.0.0.1:10000/.well-known/oauth-protected-resource/mcp", scope="a b"`},
		{name: "metadata resource rewritten, route prefix kept", public: "https://gw.example/strict",
			msgs: []*extprocv3.ProcessingRequest{reqHeaders(":path", "/.well-known/oauth-protected-resource/mcp", ":method", "GET"),
				respHeaders(":status", "200", "content-type", "application/json; charset=utf-8"), respBody(prm[:20], false), respBody(prm[20:], true)},
			wantMode: true,
			wantBody: `{"resource":"https://gw.example/strict/mcp","authorization_servers":["http://localhost:3001"],"scopes_supported":["a"]}`},
		{name: "root metadata path", public: "http://127.0.0.1:10000",
			msgs: []*extprocv3.ProcessingRequest{reqHeaders(":path", "/.well-known/oauth-protected-resource?x=1", ":method", "GET"),
				respHeaders(":status", "200", "content-type", "application/json"), respBody(`{"resource":"http://localhost:3001"}`, true)},
			wantMode: true, wantBody: `{"resource":"http://127.0.0.1:10000"}`},
		{name: "no public url: untouched",
			msgs: []*extprocv3.ProcessingRequest{reqHeaders(":path", "/.well-known/oauth-protected-resource/mcp", ":method", "GET"),
				respHeaders(":status", "401", "www-authenticate", `Bearer resource_metadata="http://localhost:3001/x"`)}},
		{name: "metadata at a custom path", public: "http://127.0.0.1:10000",
			msgs: []*extprocv3.ProcessingRequest{reqHeaders(":path", "/custom/metadata/location.json", ":method", "GET"),
				respHeaders(":status", "200", "content-type", "application/json"), respBody(`{"resource":"http://localhost:3001/mcp"}`, true)},
			wantMode: true, wantBody: `{"resource":"http://127.0.0.1:10000/mcp"}`},
		{name: "resource of another origin: untouched", public: "http://127.0.0.1:10000",
			msgs: []*extprocv3.ProcessingRequest{reqHeaders(":path", "/.well-known/oauth-protected-resource/mcp", ":method", "GET"),
				respHeaders(":status", "200", "content-type", "application/json"), respBody(`{"resource":"https://evil.example.com/mcp"}`, true)},
			wantMode: true},
		{name: "challenge naming another origin: untouched", public: "http://127.0.0.1:10000",
			msgs: []*extprocv3.ProcessingRequest{reqHeaders(":path", "/mcp", ":method", "POST"),
				respHeaders(":status", "401", "www-authenticate", `Bearer resource_metadata="http://localhost:3002/.well-known/oauth-protected-resource"`)}},
		{name: "POST json: not metadata", public: "http://127.0.0.1:10000",
			msgs: []*extprocv3.ProcessingRequest{reqHeaders(":path", "/mcp", ":method", "POST"),
				respHeaders(":status", "200", "content-type", "application/json"), respBody(`{"jsonrpc":"2.0","id":1,"result":{"resource":"http://localhost:3001"}}`, true)},
			wantMode: true}, // the usual JSON inspection, which passes it
		{name: "metadata error status: untouched", public: "http://127.0.0.1:10000",
			msgs: []*extprocv3.ProcessingRequest{reqHeaders(":path", "/.well-known/oauth-protected-resource", ":method", "GET"),
				respHeaders(":status", "404", "content-type", "text/plain"), respBody("not found", true)}},
		// A challenge on a result must not spare it from judging: the
		// tools/list below is still filtered (delete_files is not allowed).
		{name: "challenge on a judged result", public: "http://127.0.0.1:10000",
			msgs: []*extprocv3.ProcessingRequest{reqHeaders(":path", "/mcp", ":method", "POST"), reqBody(`{"jsonrpc":"2.0","id":2,"method":"tools/list"}`),
				respHeaders(":status", "200", "content-type", "application/json", "www-authenticate", `Bearer resource_metadata="http://localhost:3001/x"`),
				respBody(toolsListResult, true)},
			wantHeader: `Bearer resource_metadata="http://127.0.0.1:10000/x"`, wantMode: true,
			wantBody: `{"jsonrpc":"2.0","id":2,"result":{"tools":[{"name":"echo","inputSchema":{"type":"object"}}]}}`},
		{name: "challenge without resource_metadata", public: "http://127.0.0.1:10000",
			msgs: []*extprocv3.ProcessingRequest{reqHeaders(":path", "/mcp", ":method", "POST"),
				respHeaders(":status", "401", "www-authenticate", `Bearer realm="x"`)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			if tt.public != "" {
				ctx = metadata.NewIncomingContext(ctx, metadata.Pairs(PublicURLHeader, tt.public, UpstreamURLHeader, "http://127.0.0.1:3001/mcp"))
			}
			var logs bytes.Buffer
			p := testPolicy(Active)
			st := newStream("test", slog.New(slog.NewJSONHandler(&logs, nil)), p, nil, DefaultBackend)
			st.oauth = newResourceRewriter(ctx)
			var header string
			var body []byte
			bodyChanged, mode := false, false
			for _, m := range tt.msgs {
				r, err := st.handle(ctx, m)
				if err != nil {
					t.Fatal(err)
				}
				if rh := r.GetResponseHeaders(); rh != nil {
					for _, h := range rh.GetResponse().GetHeaderMutation().GetSetHeaders() {
						if h.Header.Key == "www-authenticate" {
							header = string(h.Header.RawValue)
						}
					}
					mode = r.GetModeOverride().GetResponseBodyMode() != 0
				}
				if b, ok := replaced(r); ok && r.GetResponseBody() != nil {
					body, bodyChanged = append(body, b...), true
				}
			}
			if header != tt.wantHeader {
				t.Errorf("www-authenticate = %q, want %q", header, tt.wantHeader)
			}
			if mode != tt.wantMode {
				t.Errorf("body requested = %v, want %v", mode, tt.wantMode)
			}
			if got := string(body); (tt.wantBody != "") != bodyChanged || got != tt.wantBody {
				t.Errorf("body = %q (replaced %v), want %q", got, bodyChanged, tt.wantBody)
			}
		})
	}
}

func TestOAuthFormPasses(t *testing.T) {
	tests := []struct {
		name, contentType, body string
		wantReject              bool
	}{
		{"token request form", "application/x-www-form-urlencoded", "grant_type=authorization_code&code=x&redirect_uri=http%3A%2F%2Flocalhost", false},
		{"JSON-RPC labelled as a form is judged", "application/x-www-form-urlencoded", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"delete_files"}}`, true},
		{"form body labelled JSON is judged", "application/json", "grant_type=authorization_code", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			replies, _ := drive(t, testPolicy(Active),
				reqHeaders(":method", "POST", ":path", "/token", "content-type", tt.contentType), reqBody(tt.body))
			if got := replies[1].GetImmediateResponse() != nil; got != tt.wantReject {
				t.Errorf("rejected = %v, want %v", got, tt.wantReject)
			}
		})
	}
}
