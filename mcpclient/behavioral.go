package mcpclient

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpgate/mcpgate/audit"
	"github.com/mcpgate/mcpgate/detectors/score"
)

// Bounds of Exercise (audit --behavioral): a call that hangs costs at most callTimeout, and
// callbacks that arrive a little after the call still count.
const (
	callTimeout   = 5 * time.Second
	callbackGrace = 500 * time.Millisecond
	maxOutputText = 1 << 20
)

// canary is a local listener whose URLs carry one random token per tool:
// a request for one proves that tool sent its input out.
type canary struct {
	base string // http://127.0.0.1:port/c/
	srv  *http.Server

	mu   sync.Mutex
	hits []string // request paths
}

func startCanary() (*canary, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("canary listener: %w", err)
	}
	c := &canary{base: "http://" + ln.Addr().String() + "/c/"}
	c.srv = &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.mu.Lock()
		c.hits = append(c.hits, r.URL.RequestURI())
		c.mu.Unlock()
		w.Write([]byte("ok"))
	})}
	go c.srv.Serve(ln)
	return c, nil
}

func (c *canary) close() { c.srv.Close() }

// hit reports whether any request carried token.
func (c *canary) hit(token string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, h := range c.hits {
		if strings.Contains(h, token) {
			return h, true
		}
	}
	return "", false
}

func newToken() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b[:])
}

// Exercise calls every tool annotated readOnlyHint true, once, with
// schema-conforming arguments whose strings carry the tool's canary URL,
// and reports what each did with it. Tools that do not claim to be
// read-only are never called. say is told about each call.
func (s *Session) Exercise(ctx context.Context, tools []score.Tool, say func(format string, args ...any)) (*score.Behavior, error) {
	cs := s.ClientSession
	c, err := startCanary()
	if err != nil {
		return nil, err
	}
	defer c.close()
	b := &score.Behavior{}
	tokens := map[string]string{}
	for _, t := range tools {
		if t.Annotations == nil || t.Annotations.ReadOnlyHint == nil || !*t.Annotations.ReadOnlyHint {
			continue
		}
		token := newToken()
		tokens[t.Name] = token
		say("calling read-only tool %s with a canary", quoteTool(t.Name))
		out, err := callWithCanary(ctx, cs, t, c.base+token)
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return nil, ctx.Err()
		}
		b.Called = append(b.Called, t.Name)
		if err != nil {
			say("%s: %v", quoteTool(t.Name), err)
		}
		if out != "" {
			b.Outputs = append(b.Outputs, score.Output{Tool: t.Name, Text: out})
		}
		if ev := echoedOutbound(out, token, c.base); ev != "" {
			b.Exfiltrations = append(b.Exfiltrations, score.Exfiltration{Tool: t.Name, Evidence: ev})
		}
	}
	if len(tokens) > 0 {
		time.Sleep(callbackGrace)
	}
	for _, name := range b.Called {
		if path, ok := c.hit(tokens[name]); ok {
			b.Exfiltrations = append(b.Exfiltrations, score.Exfiltration{Tool: name,
				Evidence: "the canary listener got a request for " + redactToken(path, tokens[name])})
		}
	}
	return b, nil
}

func callWithCanary(ctx context.Context, cs *mcp.ClientSession, t score.Tool, canaryURL string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	var schema map[string]any
	_ = json.Unmarshal(t.InputSchema, &schema) // no schema: no arguments
	args, _ := sampleValue(schema, canaryURL, 0).(map[string]any)
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: t.Name, Arguments: args})
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for _, c := range res.Content {
		switch c := c.(type) {
		case *mcp.TextContent:
			b.WriteString(c.Text + "\n")
		case *mcp.EmbeddedResource:
			if c.Resource != nil {
				b.WriteString(c.Resource.Text + "\n")
			}
		case *mcp.ResourceLink:
			b.WriteString(c.URI + "\n")
		}
	}
	if res.StructuredContent != nil {
		if sc, err := json.Marshal(res.StructuredContent); err == nil {
			b.Write(sc)
		}
	}
	out := b.String()
	if len(out) > maxOutputText {
		out = out[:maxOutputText]
	}
	return out, nil
}

// sampleValue builds a value that conforms to a JSON schema: enums and
// consts kept, every string the canary URL, except a string whose format
// or pattern a URL would not match, which gets its default if it has one.
func sampleValue(s map[string]any, canaryURL string, depth int) any {
	if depth > 8 {
		return nil
	}
	if v, ok := s["const"]; ok {
		return v
	}
	if e, ok := s["enum"].([]any); ok && len(e) > 0 {
		return e[0]
	}
	typ, _ := s["type"].(string)
	if ts, ok := s["type"].([]any); ok && len(ts) > 0 {
		typ, _ = ts[0].(string)
	}
	if typ == "" && s["properties"] != nil {
		typ = "object"
	}
	switch typ {
	case "object":
		out := map[string]any{}
		props, _ := s["properties"].(map[string]any)
		for name, p := range props {
			ps, _ := p.(map[string]any)
			if v := sampleValue(ps, canaryURL, depth+1); v != nil {
				out[name] = v
			}
		}
		return out
	case "array":
		items, _ := s["items"].(map[string]any)
		if v := sampleValue(items, canaryURL, depth+1); v != nil {
			return []any{v}
		}
		return []any{}
	case "integer", "number":
		if m, ok := s["minimum"].(float64); ok {
			return m
		}
		return 1
	case "boolean":
		return false
	case "string", "":
		format, _ := s["format"].(string)
		_, pattern := s["pattern"]
		if d, ok := s["default"]; ok && (pattern || format != "" && format != "uri" && format != "url" && format != "iri") {
			return d
		}
		return canaryURL
	}
	return nil
}

var urlPattern = regexp.MustCompile(`(?i)\bhttps?://[^\s"'<>()\[\]{}]+`)

// echoedOutbound finds the canary token inside a URL in output that points
// somewhere other than the canary listener: output that would have the
// client (or the model) send the canary out.
func echoedOutbound(out, token, canaryBase string) string {
	for _, u := range urlPattern.FindAllString(out, 64) {
		if strings.HasPrefix(u, canaryBase) {
			continue
		}
		decoded, err := url.QueryUnescape(u)
		if err != nil {
			decoded = u
		}
		if strings.Contains(u, token) || strings.Contains(decoded, token) {
			host := u
			if p, err := url.Parse(u); err == nil {
				host = p.Host
			}
			return fmt.Sprintf("the output carries the canary inside a URL to %q", audit.Truncate(host, 80))
		}
	}
	return ""
}

// redactToken hides the token in a canary path: the report says a request
// came, not how to forge one.
func redactToken(path, token string) string {
	return audit.Truncate(strings.ReplaceAll(path, token, "<canary>"), 120)
}

func quoteTool(name string) string {
	return fmt.Sprintf("%q", audit.Truncate(name, 64))
}
