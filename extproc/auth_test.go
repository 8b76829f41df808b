package extproc

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
)

func sha(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// authPolicy has two agents, a backend whose credential is a file, one
// whose credential is an environment variable in another header, and one
// without auth.
func authPolicy(t *testing.T, mode Mode) *Policy {
	t.Helper()
	cred := filepath.Join(t.TempDir(), "backend-token")
	if err := os.WriteFile(cred, []byte("backend-secret-1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("MCPGATE_TEST_API_KEY", "backend-secret-2")
	text := `
mode: ` + string(mode) + `
pinning: {disabled: true}
auth:
  tokens:
  - {name: ci-agent, sha256: ` + sha("agent-token-A") + `, audiences: [files]}
  - {name: ops-agent, sha256: ` + sha("agent-token-B") + `, audiences: [files, search-api]}
backends:
  default: {}
  files:
    auth:
      backend_credential: {file: ` + cred + `}
  search:
    auth:
      audience: search-api
      backend_credential: {env: MCPGATE_TEST_API_KEY, header: X-Api-Key}
`
	p := parseTestPolicy(t, text)
	loaded, err := p.loadCredentials()
	if err != nil {
		t.Fatal(err)
	}
	return &loaded
}

func TestAuthenticate(t *testing.T) {
	type mutation struct{ set, remove string }
	tests := []struct {
		name       string
		backend    string
		auth       string // Authorization header; "" sends none
		wantStatus int    // 401 or 0 (passed)
		wantChall  string // WWW-Authenticate
		wantMut    mutation
		wantLog    string
	}{
		{"no token", "files", "", 401, `Bearer realm="mcpgate"`, mutation{}, `"reason":"missing_token"`},
		{"basic scheme", "files", "Basic YWdlbnQ6cHc=", 401, `Bearer realm="mcpgate"`, mutation{}, `"reason":"missing_token"`},
		{"unknown token", "files", "Bearer agent-token-C", 401, `Bearer realm="mcpgate", error="invalid_token"`, mutation{}, `"reason":"unknown_token"`},
		{"wrong audience", "search", "Bearer agent-token-A", 401, `Bearer realm="mcpgate", error="invalid_token"`, mutation{}, `"audience":"search-api"`},
		{"file credential replaces the token", "files", "Bearer agent-token-A", 0, "",
			mutation{set: "authorization=Bearer backend-secret-1"}, ""},
		{"lower-case scheme", "files", "bearer agent-token-B", 0, "", mutation{set: "authorization=Bearer backend-secret-1"}, ""},
		{"env credential in its own header", "search", "Bearer agent-token-B", 0, "",
			mutation{set: "x-api-key=backend-secret-2", remove: "authorization"}, ""},
		{"no auth on the route", "default", "Bearer anything", 0, "", mutation{}, ""},
	}
	for _, mode := range []Mode{Active, Passive} {
		p := authPolicy(t, mode)
		for _, tt := range tests {
			t.Run(string(mode)+"/"+tt.name, func(t *testing.T) {
				kv := []string{":path", "/mcp"}
				if tt.auth != "" {
					kv = append(kv, "authorization", tt.auth)
				}
				replies, logs := driveBackend(t, p, tt.backend, reqHeaders(kv...))
				ir := replies[0].GetImmediateResponse()
				if tt.wantStatus == 0 {
					if ir != nil {
						t.Fatalf("rejected: %d %s", ir.Status.Code, ir.Body)
					}
					hm := replies[0].GetRequestHeaders().GetResponse().GetHeaderMutation()
					var got mutation
					for _, h := range hm.GetSetHeaders() {
						got.set = h.Header.Key + "=" + string(h.Header.RawValue)
					}
					got.remove = strings.Join(hm.GetRemoveHeaders(), ",")
					if got != tt.wantMut {
						t.Errorf("header mutation %+v, want %+v", got, tt.wantMut)
					}
				} else {
					if ir == nil || int(ir.Status.Code) != tt.wantStatus || !strings.Contains(string(ir.Body), `"code":-32010`) {
						t.Fatalf("got %v, want %d with a JSON-RPC error", ir, tt.wantStatus)
					}
					if got := headerOf(ir.GetHeaders(), "www-authenticate"); got != tt.wantChall {
						t.Errorf("WWW-Authenticate %q, want %q", got, tt.wantChall)
					}
				}
				if !strings.Contains(logs, tt.wantLog) {
					t.Errorf("log lacks %s:\n%s", tt.wantLog, logs)
				}
				for _, secret := range []string{"agent-token-", "backend-secret"} {
					if strings.Contains(logs, secret) {
						t.Errorf("log holds a secret (%s):\n%s", secret, logs)
					}
				}
			})
		}
	}
}

func headerOf(hm *extprocv3.HeaderMutation, key string) string {
	for _, h := range hm.GetSetHeaders() {
		if h.Header.Key == key {
			return string(h.Header.RawValue)
		}
	}
	return ""
}

func TestAuthPolicyErrors(t *testing.T) {
	good := sha("x")
	tests := []struct {
		name    string
		yaml    string
		wantErr string
	}{
		{"route auth without tokens", "backends:\n  a:\n    auth: {}\n", "no auth.tokens are configured"},
		{"short digest", "auth:\n  tokens:\n  - {name: a, sha256: abc, audiences: [a]}\n", "tokens.a.sha256: want 64 hex digits"},
		{"clear token instead of digest", "auth:\n  tokens:\n  - {name: a, sha256: my-secret-token-value-my-secret-token-value-my-secret-token-val, audiences: [a]}\n", "want 64 hex digits"},
		{"no audiences", "auth:\n  tokens:\n  - {name: a, sha256: " + good + "}\n", "tokens.a.audiences"},
		{"duplicate name", "auth:\n  tokens:\n  - {name: a, sha256: " + good + ", audiences: [a]}\n  - {name: a, sha256: " + good + ", audiences: [a]}\n", `duplicate name "a"`},
		{"file and env", "auth:\n  tokens:\n  - {name: a, sha256: " + good + ", audiences: [a]}\nbackends:\n  a:\n    auth:\n      backend_credential: {file: /x, env: Y}\n",
			"backends.a.auth.backend_credential: set exactly one of file or env"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParsePolicy([]byte(tt.yaml))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
	// A credential that cannot be read fails the load, naming the backend.
	p := parseTestPolicy(t, "auth:\n  tokens:\n  - {name: a, sha256: "+good+", audiences: [a]}\nbackends:\n  a:\n    auth:\n      backend_credential: {env: MCPGATE_TEST_UNSET_VARIABLE}\n")
	if _, err := newSnapshot(*p); err == nil || !strings.Contains(err.Error(), "backends.a.auth.backend_credential: environment variable MCPGATE_TEST_UNSET_VARIABLE is not set") {
		t.Errorf("unset credential variable: %v", err)
	}
}

// TestAuthNeedsRequestHeaders: with request headers skipped by Envoy, a
// route with auth is refused rather than served unchecked.
func TestAuthNeedsRequestHeaders(t *testing.T) {
	p := authPolicy(t, Active)
	replies, logs := driveBackend(t, p, "files", reqBody(`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`))
	ir := replies[0].GetImmediateResponse()
	if ir == nil || ir.Status.Code != 500 || !strings.Contains(string(ir.Body), "request_header_mode must be SEND") || !strings.Contains(logs, "auth_unchecked") {
		t.Errorf("body without headers on an auth route: %v\n%s", ir, logs)
	}
	// Without auth on the route, skipping headers stays allowed.
	if replies, _ := driveBackend(t, p, "default", reqBody(`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`)); replies[0].GetImmediateResponse() != nil {
		t.Error("a route without auth refused a stream without request headers")
	}
}

func TestCredentialNeverPrinted(t *testing.T) {
	p := authPolicy(t, Active)
	c := *p.Backends["files"].Auth.BackendCredential
	for _, format := range []string{"%v", "%+v", "%s"} {
		if got := fmt.Sprintf(format, c); strings.Contains(got, "backend-secret") {
			t.Errorf("%s prints the credential: %s", format, got)
		}
	}
}
