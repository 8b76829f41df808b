package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	auditlog "github.com/mcpgate/mcpgate/audit"
	"github.com/mcpgate/mcpgate/examples/mcpserver"
)

// jwtKey signs test JWTs (ES256) and publishes its JWKS.
type jwtKey struct{ key *ecdsa.PrivateKey }

func newJWTKey(t *testing.T) jwtKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return jwtKey{k}
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func (k jwtKey) jwks() string {
	x, y := make([]byte, 32), make([]byte, 32)
	k.key.PublicKey.X.FillBytes(x)
	k.key.PublicKey.Y.FillBytes(y)
	return string(mustJSON(map[string]any{"keys": []any{map[string]string{
		"kty": "EC", "crv": "P-256", "alg": "ES256", "kid": "test", "use": "sig", "x": b64(x), "y": b64(y)}}}))
}

func (k jwtKey) token(t *testing.T, aud string, exp time.Time) string {
	input := b64(mustJSON(map[string]string{"alg": "ES256", "typ": "JWT", "kid": "test"})) + "." +
		b64(mustJSON(map[string]any{"iss": "https://idp.example.com", "aud": aud, "sub": "agent-1", "exp": exp.Unix()}))
	sum := sha256.Sum256([]byte(input))
	r, s, err := ecdsa.Sign(rand.Reader, k.key, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return input + "." + b64(sig)
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// jwtEnvoyConfig is envoy/jwt_authn.yaml with test ports and the test key
// in place of the identity provider's remote JWKS.
func jwtEnvoyConfig(t *testing.T, jwks string, listen, admin, backendPort, mcpgatePort int) string {
	data, err := os.ReadFile("../../envoy/jwt_authn.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]any
	if err := yaml.Unmarshal(data, &cfg); err != nil {
		t.Fatal(err)
	}
	get := func(v any, path ...any) any {
		for _, p := range path {
			switch k := p.(type) {
			case string:
				v = v.(map[string]any)[k]
			case int:
				v = v.([]any)[k]
			}
			if v == nil {
				t.Fatalf("envoy/jwt_authn.yaml: nothing at %v", path)
			}
		}
		return v
	}
	setPort := func(port int, path ...any) {
		get(cfg, path...).(map[string]any)["port_value"] = port
	}
	res := get(cfg, "static_resources")
	setPort(admin, "admin", "address", "socket_address")
	setPort(listen, "static_resources", "listeners", 0, "address", "socket_address")
	clusters := get(res, "clusters").([]any)
	var kept []any
	for _, c := range clusters {
		addr := []any{"load_assignment", "endpoints", 0, "lb_endpoints", 0, "endpoint", "address", "socket_address"}
		switch get(c, "name") {
		case "mcp_backend":
			setPort(backendPort, append([]any{"static_resources", "clusters", len(kept)}, addr...)...)
		case "mcpgate":
			setPort(mcpgatePort, append([]any{"static_resources", "clusters", len(kept)}, addr...)...)
		case "idp":
			continue // replaced by the inline test key
		}
		kept = append(kept, c)
	}
	res.(map[string]any)["clusters"] = kept
	hcm := get(res, "listeners", 0, "filter_chains", 0, "filters", 0, "typed_config")
	providers := get(hcm, "http_filters", 0, "typed_config", "providers").(map[string]any)
	for _, p := range providers {
		delete(p.(map[string]any), "remote_jwks")
		p.(map[string]any)["local_jwks"] = map[string]any{"inline_string": jwks}
	}
	out, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "jwt_authn.yaml")
	if err := os.WriteFile(file, out, 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}

// TestJWTAuthnEndToEnd runs the Envoy-native auth example with real Envoy:
// JWT checks with per-route audiences, the agent's token stripped and
// the backend's credential added from Envoy's environment.
func TestJWTAuthnEndToEnd(t *testing.T) {
	envoyBinary(t)
	backend := mcpserver.NewBackend()
	var creds headerLog
	backendPort := serveBackend(t, creds.wrap(backend.Handler()))
	policy := filepath.Join(t.TempDir(), "policy.yaml")
	writeFile(t, policy, "mode: active\npinning: {disabled: true}\nbackends:\n  default: {}\n  strict: {allowed_tools: [echo]}\n")
	port, _, _ := startMcpgate(t, "--config", policy)
	t.Setenv("BACKEND_TOKEN", "backend-secret")
	key := newJWTKey(t)
	listen, admin := freePort(t), freePort(t)
	gw := runEnvoy(t, jwtEnvoyConfig(t, key.jwks(), listen, admin, backendPort, port), listen, admin)

	hour := time.Now().Add(time.Hour)
	tests := []struct {
		name       string
		path       string
		token      string
		wantStatus int
		wantBody   string
	}{
		{"no token", "/strict", "", 401, "Jwt is missing"},
		{"audience of another route", "/strict", key.token(t, "mcp-default", hour), 403, "Audiences in Jwt are not allowed"},
		{"expired", "/strict", key.token(t, "mcp-strict", time.Now().Add(-time.Hour)), 401, "Jwt is expired"},
		{"signed by another key", "/strict", newJWTKey(t).token(t, "mcp-strict", hour), 401, "Jwt verification fails"},
		{"strict route, its audience", "/strict", key.token(t, "mcp-strict", hour), 200, "not allowed by policy"},
		{"default route, its audience", "", key.token(t, "mcp-default", hour), 200, `"result"`},
	}
	call := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"add","arguments":{"a":1,"b":2}}}`
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(creds.all())
			req, _ := http.NewRequest(http.MethodPost, gw+tt.path+mcpserver.PathStateless, strings.NewReader(call))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Accept", "application/json, text/event-stream")
			if tt.token != "" {
				req.Header.Set("Authorization", "Bearer "+tt.token)
			}
			got := outcome(http.DefaultClient.Do(req))
			if !strings.HasPrefix(got, strconv.Itoa(tt.wantStatus)+" ") || !strings.Contains(got, tt.wantBody) {
				t.Errorf("got %s, want %d with %q", auditlog.Truncate(got, 200), tt.wantStatus, tt.wantBody)
			}
			seen := creds.all()[before:]
			if tt.wantStatus != 200 || strings.Contains(tt.wantBody, "not allowed") {
				if len(seen) != 0 {
					t.Errorf("a refused request reached the backend")
				}
				return
			}
			if len(seen) != 1 || seen[0] != "Bearer backend-secret" {
				t.Errorf("backend got Authorization %q, want only the backend credential", seen)
			}
		})
	}
}
