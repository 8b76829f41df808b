package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpgate/mcpgate/detectors/score"
	"github.com/mcpgate/mcpgate/pinning"
)

// Transports `mcpgate audit --transport` accepts.
const (
	transportAuto       = "auto"
	transportStreamable = "streamable"
	transportSSE        = "sse"
)

// auditMethods are the list requests whose raw results audit keeps.
var auditMethods = map[string]bool{"tools/list": true, "prompts/list": true, "resources/list": true, "resources/templates/list": true}

// collected is what audit learned from a server.
type collected struct {
	surface   score.Surface
	lockfile  pinning.Lockfile // what `mcpgate pin` would write now
	transport string
	session   *mcp.ClientSession // open until close; nil after a failed handshake
	close     func()
}

// progress prints one line for a slow step, on stderr.
type progress func(format string, args ...any)

// collect connects, lists everything the server offers (all pages, from
// the bytes on the wire, as the gateway sees them) and probes its error
// handling. A failed handshake is not an error: it is in the surface, so
// it can be reported and scored F.
func collect(ctx context.Context, url, transport string, say progress) *collected {
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(24 * time.Hour)
	}
	kinds := []string{transport}
	if transport == transportAuto {
		kinds = []string{transportStreamable, transportSSE}
	}
	var errs []error
	for _, kind := range kinds {
		say("connecting to %s (%s)", url, kind)
		c, err := connect(ctx, url, kind, deadline, say)
		if err == nil {
			return c
		}
		errs = append(errs, fmt.Errorf("%s: %w", kind, err))
		if ctx.Err() != nil {
			break
		}
	}
	return &collected{surface: score.Surface{HandshakeError: errors.Join(errs...).Error()}, close: func() {}}
}

func connect(ctx context.Context, url, kind string, deadline time.Time, say progress) (*collected, error) {
	rec := &wireRecorder{next: http.DefaultTransport, deadline: deadline, pending: map[jsonrpc.ID]bool{}, methods: auditMethods}
	sniff := &sessionSniffer{next: rec}
	hc := &http.Client{Transport: sniff}
	var t mcp.Transport
	switch kind {
	case transportSSE:
		t = &mcp.SSEClientTransport{Endpoint: url, HTTPClient: hc}
	default:
		// The standalone GET stream stays on: servers send their own
		// requests there (roots/list), and a tool waiting on an
		// unanswered one would stall --behavioral until its timeout.
		t = &mcp.StreamableClientTransport{Endpoint: url, HTTPClient: hc}
	}
	client := mcp.NewClient(&mcp.Implementation{Name: "mcpgate-audit", Version: "0.1.0"}, nil)
	cs, err := client.Connect(ctx, t, nil)
	if err != nil {
		return nil, err
	}
	c := &collected{transport: kind, session: cs, close: func() { cs.Close() }}
	if res := cs.InitializeResult(); res != nil && res.ServerInfo != nil {
		say("initialized %q %q, protocol %s; listing", truncateText(res.ServerInfo.Name, 64), truncateText(res.ServerInfo.Version, 32), res.ProtocolVersion)
	}
	if err := c.list(ctx, rec, url); err != nil {
		cs.Close()
		return nil, err
	}
	if kind == transportStreamable {
		c.surface.UnknownMethod = probeUnknownMethod(ctx, hc, url, sniff.session(), c.surface.ProtocolVersion)
	}
	return c, nil
}

// list fills the surface and the live lockfile.
func (c *collected) list(ctx context.Context, rec *wireRecorder, url string) error {
	cs := c.session
	s := &c.surface
	var caps *mcp.ServerCapabilities
	if res := cs.InitializeResult(); res != nil {
		s.ProtocolVersion, s.Instructions, caps = res.ProtocolVersion, res.Instructions, res.Capabilities
		if res.ServerInfo != nil {
			s.ServerName, s.ServerVersion = res.ServerInfo.Name, res.ServerInfo.Version
		}
	}
	tools, err := listAll(rec, url, "tools/list", "tools", func(cursor string) error {
		_, err := cs.ListTools(ctx, &mcp.ListToolsParams{Cursor: cursor})
		return err
	})
	if err != nil {
		return err
	}
	for _, def := range tools {
		t, err := score.ParseTool(def)
		if err != nil {
			return fmt.Errorf("tools/list %s: %w", url, err)
		}
		s.Tools = append(s.Tools, t)
	}
	instructions := s.Instructions
	set, err := pinning.NewSet(tools, &instructions)
	if err != nil {
		return fmt.Errorf("tools/list %s: %w", url, err)
	}
	c.lockfile = pinning.Lockfile{Server: url, Set: set}
	if caps != nil && caps.Prompts != nil {
		defs, err := listAll(rec, url, "prompts/list", "prompts", func(cursor string) error {
			_, err := cs.ListPrompts(ctx, &mcp.ListPromptsParams{Cursor: cursor})
			return err
		})
		if err != nil {
			return err
		}
		s.Prompts = raws(defs)
		if c.lockfile.Prompts, err = entrySet(defs, pinning.PromptFields); err != nil {
			return fmt.Errorf("prompts/list %s: %w", url, err)
		}
	}
	if caps != nil && caps.Resources != nil {
		defs, err := listAll(rec, url, "resources/list", "resources", func(cursor string) error {
			_, err := cs.ListResources(ctx, &mcp.ListResourcesParams{Cursor: cursor})
			return err
		})
		if err != nil {
			return err
		}
		s.Resources = raws(defs)
		defs, err = listAll(rec, url, "resources/templates/list", "resourceTemplates", func(cursor string) error {
			_, err := cs.ListResourceTemplates(ctx, &mcp.ListResourceTemplatesParams{Cursor: cursor})
			return err
		})
		if err != nil {
			return err
		}
		s.ResourceTemplates = raws(defs)
		if c.lockfile.ResourceTemplates, err = entrySet(defs, pinning.ResourceTemplateFields); err != nil {
			return fmt.Errorf("resources/templates/list %s: %w", url, err)
		}
	}
	return nil
}

func raws(defs [][]byte) []json.RawMessage {
	out := make([]json.RawMessage, len(defs))
	for i, d := range defs {
		out[i] = d
	}
	return out
}

// sessionSniffer notes the Mcp-Session-Id the server assigns, for the
// protocol probe, which is sent outside the SDK.
type sessionSniffer struct {
	next http.RoundTripper
	mu   sync.Mutex
	id   string
}

func (s *sessionSniffer) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := s.next.RoundTrip(req)
	if err == nil {
		if id := resp.Header.Get("Mcp-Session-Id"); id != "" {
			s.mu.Lock()
			s.id = id
			s.mu.Unlock()
		}
	}
	return resp, err
}

func (s *sessionSniffer) session() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.id
}

// probeMethod is a method no MCP revision defines.
const probeMethod = "mcpgate/audit-unknown-method"

// probeUnknownMethod sends a request for a method that does not exist, in
// the audit's session, and reports the answer: a conforming server says
// -32601 (Method not found).
func probeUnknownMethod(ctx context.Context, hc *http.Client, url, session, version string) *score.Probe {
	body := `{"jsonrpc":"2.0","id":"mcpgate-audit-probe","method":"` + probeMethod + `","params":{}}`
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		return &score.Probe{Detail: err.Error()}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Mcp-Method", probeMethod)
	if session != "" {
		req.Header.Set("Mcp-Session-Id", session)
	}
	if version != "" {
		req.Header.Set("Mcp-Protocol-Version", version)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return &score.Probe{Detail: err.Error()}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return &score.Probe{Detail: err.Error()}
	}
	if isSSE(resp.Header.Get("Content-Type")) {
		data = firstSSEData(data)
	}
	var msg struct {
		Result json.RawMessage `json:"result"`
		Error  *struct {
			Code int `json:"code"`
		} `json:"error"`
	}
	if json.Unmarshal(data, &msg) != nil || msg.Error == nil && msg.Result == nil {
		return &score.Probe{Detail: fmt.Sprintf("HTTP %d without a JSON-RPC answer", resp.StatusCode)}
	}
	if msg.Error != nil {
		return &score.Probe{ErrorCode: msg.Error.Code}
	}
	return &score.Probe{Result: true}
}

// firstSSEData returns the data of the first SSE event that has any.
func firstSSEData(b []byte) []byte {
	var data []byte
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if len(line) == 0 && len(data) > 0 {
			return data
		}
		if v, ok := bytes.CutPrefix(line, []byte("data:")); ok {
			data = append(data, bytes.TrimPrefix(v, []byte(" "))...)
		}
	}
	return data
}
