package extproc

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
)

// AuthPolicy lists the bearer tokens agents present to the gateway. Only
// their SHA-256 digests are configured, so the policy file (a ConfigMap,
// a git repository) holds no secret.
type AuthPolicy struct {
	Tokens []AgentToken `yaml:"tokens"`
}

// AgentToken is one agent's token.
type AgentToken struct {
	// Name identifies the agent in logs.
	Name string `yaml:"name"`
	// SHA256 is the hex SHA-256 of the token (echo -n TOKEN | sha256sum).
	SHA256 string `yaml:"sha256"`
	// Audiences are the route audiences the token is good for.
	Audiences []string `yaml:"audiences"`
}

// RouteAuth is a backend's auth: a token for its audience is required, the
// agent's Authorization header is removed, and the backend credential, if
// any, is sent instead.
type RouteAuth struct {
	// Audience a token must list (default: the backend's name).
	Audience string `yaml:"audience"`
	// BackendCredential is what mcpgate sends the backend; without it the
	// backend gets no credential from the gateway.
	BackendCredential *Credential `yaml:"backend_credential"`
}

// Credential is read from the operator's environment, never from the
// agent: a file (a mounted Secret) or an environment variable.
type Credential struct {
	File string `yaml:"file"`
	Env  string `yaml:"env"`
	// Header to set (default authorization) and a prefix for the value
	// (default "Bearer " for authorization, none otherwise).
	Header string  `yaml:"header"`
	Prefix *string `yaml:"prefix"`

	value string // loaded by loadCredentials; never logged
}

const authRealm = "mcpgate"

func (a AuthPolicy) validate() error {
	seen := map[string]bool{}
	for i, t := range a.Tokens {
		if t.Name == "" {
			return fmt.Errorf("tokens[%d]: name is required", i)
		}
		if seen[t.Name] {
			return fmt.Errorf("tokens[%d]: duplicate name %q", i, t.Name)
		}
		seen[t.Name] = true
		if d, err := hex.DecodeString(t.SHA256); err != nil || len(d) != sha256.Size {
			return fmt.Errorf("tokens.%s.sha256: want 64 hex digits (sha256 of the token)", t.Name)
		}
		if len(t.Audiences) == 0 {
			return fmt.Errorf("tokens.%s.audiences: list at least one", t.Name)
		}
	}
	return nil
}

func (r *RouteAuth) validate(auth AuthPolicy) error {
	if len(auth.Tokens) == 0 {
		return fmt.Errorf("audience %q: no auth.tokens are configured, so no agent could call this backend", r.Audience)
	}
	if c := r.BackendCredential; c != nil && (c.File == "") == (c.Env == "") {
		return fmt.Errorf("backend_credential: set exactly one of file or env")
	}
	return nil
}

// loadCredentials reads every backend credential, returning a policy whose
// RouteAuths carry the values. The input is left untouched, so a failed
// reload changes nothing.
func (p Policy) loadCredentials() (Policy, error) {
	backends := make(map[string]BackendPolicy, len(p.Backends))
	for name, b := range p.Backends {
		if b.Auth != nil {
			ra := *b.Auth
			if ra.Audience == "" {
				ra.Audience = name
			}
			if c := ra.BackendCredential; c != nil {
				cc := *c
				v, err := cc.read()
				if err != nil {
					return p, fmt.Errorf("backends.%s.auth.backend_credential: %w", name, err)
				}
				cc.value = v
				ra.BackendCredential = &cc
			}
			b.Auth = &ra
		}
		backends[name] = b
	}
	p.Backends = backends
	return p, nil
}

// String names the credential's source, never its value, so printing a
// policy cannot leak it.
func (c Credential) String() string {
	if c.Env != "" {
		return "credential from env " + c.Env
	}
	return "credential from file " + c.File
}

func (c Credential) read() (string, error) {
	if c.Env != "" {
		v, ok := os.LookupEnv(c.Env)
		if !ok || v == "" {
			return "", fmt.Errorf("environment variable %s is not set", c.Env)
		}
		return v, nil
	}
	b, err := os.ReadFile(c.File)
	if err != nil {
		return "", fmt.Errorf("read: %w", err)
	}
	v := strings.TrimSpace(string(b))
	if v == "" {
		return "", fmt.Errorf("%s is empty", c.File)
	}
	return v, nil
}

// header returns the header name and value the backend gets.
func (c Credential) header() (string, string) {
	name := strings.ToLower(c.Header)
	if name == "" {
		name = "authorization"
	}
	prefix := ""
	if c.Prefix != nil {
		prefix = *c.Prefix
	} else if name == "authorization" {
		prefix = "Bearer "
	}
	return name, prefix + c.value
}

// authenticate checks the agent's bearer token for a backend that requires
// one. It is enforced in passive mode too: passing an unauthenticated
// request would hand it the backend's credential.
func (s *stream) authenticate(ctx context.Context, hm *corev3.HeaderMap) Decision {
	ra := s.rules.Auth
	if ra == nil {
		return Decision{}
	}
	token, ok := bearerToken(headerValue(hm, "authorization"))
	if !ok {
		return s.rejectAuth(ctx, "", "missing_token")
	}
	agent, ok := s.policy.Auth.match(token)
	if !ok {
		return s.rejectAuth(ctx, "invalid_token", "unknown_token")
	}
	s.log = s.log.With("agent", agent.Name)
	if !slices.Contains(agent.Audiences, ra.Audience) {
		return s.rejectAuth(ctx, "invalid_token", "wrong_audience", slog.String("audience", ra.Audience))
	}
	d := Decision{RemoveHeaders: []string{"authorization"}}
	if c := ra.BackendCredential; c != nil {
		name, value := c.header()
		if name == "authorization" {
			d.RemoveHeaders = nil // overwritten instead
		}
		d.SetHeaders = []hdr{{name, value}}
	}
	return d
}

// requireHeaders refuses a stream of a backend with auth whose first
// message is not the request headers: Envoy was configured to skip them
// (request_header_mode SKIP), so no token could be checked.
func (s *stream) requireHeaders(ctx context.Context, req *extprocv3.ProcessingRequest) (Decision, bool) {
	if s.rules.Auth == nil || s.headers {
		return Decision{}, false
	}
	if _, ok := req.Request.(*extprocv3.ProcessingRequest_RequestHeaders); ok {
		s.headers = true
		return Decision{}, false
	}
	msg := "mcpgate: this MCP server requires auth, but Envoy did not send the request headers (request_header_mode must be SEND)"
	return s.enforceAlways(ctx, Decision{Reject: &Reject{
		Status: 500, Body: errorResponse("null", codeInternalError, msg, nil), Details: "mcpgate_auth_unchecked",
	}}, "auth_unchecked"), true
}

// match finds the agent whose digest equals the token's, comparing with
// every configured digest in constant time so timing reveals nothing.
func (a AuthPolicy) match(token string) (AgentToken, bool) {
	sum := sha256.Sum256([]byte(token))
	found := -1
	for i, t := range a.Tokens {
		digest, _ := hex.DecodeString(t.SHA256) // validated at load
		if subtle.ConstantTimeCompare(sum[:], digest) == 1 {
			found = i
		}
	}
	if found < 0 {
		return AgentToken{}, false
	}
	return a.Tokens[found], true
}

func bearerToken(v string) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(v), " ")
	if !ok || !strings.EqualFold(scheme, "bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

// rejectAuth answers 401 with a WWW-Authenticate challenge (RFC 6750);
// errCode is empty when no token was sent. The token is never logged.
func (s *stream) rejectAuth(ctx context.Context, errCode, reason string, attrs ...slog.Attr) Decision {
	msg := "mcpgate: a bearer token is required for this MCP server"
	if errCode != "" {
		msg = "mcpgate: the bearer token is not valid for this MCP server"
	}
	d := Decision{Reject: &Reject{
		Status:  401,
		Headers: []hdr{{"www-authenticate", wwwAuthenticate(errCode)}},
		Body:    errorResponse("null", codeUnauthorized, msg, nil),
		Details: "mcpgate_unauthorized",
	}}
	return s.enforceAlways(ctx, d, "unauthorized", append([]slog.Attr{slog.String("reason", reason)}, attrs...)...)
}

// wwwAuthenticate builds the challenge; OAuth resource metadata, when
// configured, belongs here too.
func wwwAuthenticate(errCode string) string {
	v := `Bearer realm="` + authRealm + `"`
	if errCode != "" {
		v += `, error="` + errCode + `"`
	}
	return v
}
