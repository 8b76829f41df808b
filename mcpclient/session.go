package mcpclient

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// Transports Connect accepts.
const (
	Auto       = "auto" // Streamable HTTP, then the legacy HTTP+SSE transport
	Streamable = "streamable"
	SSE        = "sse"
)

// ValidTransport reports whether t is Auto, Streamable or SSE.
func ValidTransport(t string) bool { return t == Auto || t == Streamable || t == SSE }

// Options configure a connection.
type Options struct {
	// Name is the client implementation name the server is told.
	Name string
	// Methods are the requests whose raw results List keeps; the list
	// methods it calls must be among them.
	Methods []string
	// StandaloneSSE keeps Streamable HTTP's GET stream open: servers send
	// their own requests there (roots/list), and a tool waiting on an
	// unanswered one would stall a caller that calls tools.
	StandaloneSSE bool
	// Progress, if set, is told about each connection attempt.
	Progress func(format string, args ...any)
	// Ready, if set, runs on each new session (to list it, say); an error
	// closes the session and counts as that transport's failure, so Auto
	// goes on to the next one.
	Ready func(*Session) error
}

// Session is one connection to a server, with the wire recorder that
// keeps list results as sent.
type Session struct {
	*mcp.ClientSession
	URL       string
	Transport string // Streamable or SSE: the one that connected

	rec   *wireRecorder
	sniff *sessionSniffer
	http  *http.Client
}

// Connect opens a session to the server at url over transport (Auto
// tries Streamable HTTP, then SSE). The error names each transport tried.
// The context's deadline bounds every request of the session, the SDK's
// own included.
func Connect(ctx context.Context, url, transport string, o Options) (*Session, error) {
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(24 * time.Hour)
	}
	kinds := []string{transport}
	if transport == Auto {
		kinds = []string{Streamable, SSE}
	}
	var errs []error
	for _, kind := range kinds {
		if o.Progress != nil {
			o.Progress("connecting to %s (%s)", url, kind)
		}
		s, err := connect(ctx, url, kind, deadline, o)
		if err == nil && o.Ready != nil {
			if err = o.Ready(s); err != nil {
				s.Close()
			}
		}
		if err == nil {
			return s, nil
		}
		errs = append(errs, fmt.Errorf("%s: %w", kind, err))
		if ctx.Err() != nil {
			break
		}
	}
	return nil, errors.Join(errs...)
}

func connect(ctx context.Context, url, kind string, deadline time.Time, o Options) (*Session, error) {
	rec := newRecorder(http.DefaultTransport, deadline, o.Methods)
	sniff := &sessionSniffer{next: rec}
	hc := &http.Client{Transport: sniff}
	var t mcp.Transport
	switch kind {
	case SSE:
		t = &mcp.SSEClientTransport{Endpoint: url, HTTPClient: hc}
	case Streamable:
		t = &mcp.StreamableClientTransport{Endpoint: url, HTTPClient: hc, DisableStandaloneSSE: !o.StandaloneSSE}
	default:
		return nil, fmt.Errorf("unknown transport %q", kind)
	}
	client := mcp.NewClient(&mcp.Implementation{Name: o.Name, Version: "0.1.0"}, nil)
	cs, err := client.Connect(ctx, t, nil)
	if err != nil {
		return nil, err
	}
	return &Session{ClientSession: cs, URL: url, Transport: kind, rec: rec, sniff: sniff, http: hc}, nil
}

// sessionSniffer notes the Mcp-Session-Id the server assigns, for
// requests sent outside the SDK.
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
