package extproc

// legacy.go owns the 2024-11-05 HTTP+SSE transport's one message that is
// not JSON: the endpoint event, whose data is the URL the client POSTs its
// messages to. The POSTs themselves are JSON-RPC like Streamable HTTP's and
// are judged the same way; only the URL needs its own check, since a URL
// off the backend's origin would send the client's messages around the
// gateway.

import (
	"bytes"
	"context"
	"log/slog"
	"net/url"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
)

// isEndpointEvent reports whether some client reads ev as the endpoint
// event: the Go SDK trims the name, the spec (TS, Python) strips one space.
func isEndpointEvent(ev sseEvent) bool {
	return string(bytes.TrimSpace(ev.name)) == "endpoint"
}

// judgeEndpoint passes an endpoint event whose URL stays on the gateway:
// a path reference (resolved by the client against the gateway URL it
// connected to) or an absolute URL on the backend's own origin, which is
// rewritten to the gateway's as the OAuth metadata is. A path is put under
// the route's public path prefix, when one is configured, so the POSTs
// come back through the same route. Anything else is withheld (active
// mode) with an error event that no client takes for an endpoint.
func (s *stream) judgeEndpoint(ctx context.Context, ev sseEvent) ([]byte, bool) {
	ref := string(ev.data)
	u, reason := endpointURL(ref)
	if reason == "" && (u.Scheme != "" || u.Host != "") {
		switch {
		case s.oauth.upstream == nil:
			reason = "absolute URL and the route names no upstream URL (" + UpstreamURLHeader + ") to check it against"
		case !sameOrigin(u, s.oauth.upstream):
			reason = "URL is not on the backend's origin"
		}
	}
	if reason != "" {
		msg := "mcpgate: legacy SSE endpoint refused: " + reason
		d := s.enforce(ctx, Decision{Replace: true, Body: sseEvent{}.encode(errorResponse("null", codeUninspectable, msg, nil))},
			"endpoint_refused", slog.String("reason", reason), slog.String("endpoint", truncate(ref, 128)))
		return d.Body, d.Replace
	}
	if s.get {
		s.legacySession = legacySessionOf(u.RawQuery)
	}
	out := ref
	if s.oauth.public != nil {
		// An absolute URL drops its origin and a path gains the prefix:
		// the client resolves the result against the gateway URL.
		if strings.HasPrefix(u.Path, "/") {
			u.Path = strings.TrimSuffix(s.oauth.public.Path, "/") + u.Path
			u.RawPath = ""
		}
		u.Scheme, u.Host, u.User = "", "", nil
		out = u.String()
	} else if u.Scheme != "" {
		u.Scheme, u.Host, u.User = "", "", nil
		out = u.String()
	}
	if out == ref {
		return nil, false
	}
	return ev.encode([]byte(out)), true
}

// urlByte admits the bytes RFC 3986 allows in a URL (but "[" and "]",
// only needed for an IPv6 host): none of white space, controls, quotes,
// braces or backslashes, which clients' parsers treat differently and
// which any JSON-RPC message needs.
func urlByte(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("-._~:/?#@!$&'()*+,;=%", c) >= 0
}

// endpointURL parses an endpoint reference, refusing what clients resolve
// differently: bytes outside urlByte (the WHATWG URL parser the TS SDK
// uses reads "\" as "/", so "\\host" names a host),
// scheme-relative and non-HTTP URLs, and user info.
func endpointURL(ref string) (*url.URL, string) {
	if ref == "" {
		return nil, "empty URL"
	}
	for _, c := range []byte(ref) {
		if !urlByte(c) {
			return nil, "URL has a byte clients read differently"
		}
	}
	if strings.HasPrefix(ref, "//") {
		return nil, "scheme-relative URL"
	}
	u, err := url.Parse(ref)
	if err != nil {
		return nil, "URL does not parse"
	}
	if u.Opaque != "" || u.User != nil || (u.Scheme != "" && u.Scheme != "http" && u.Scheme != "https") || (u.Scheme != "") != (u.Host != "") {
		return nil, "URL is not a path or an http(s) URL"
	}
	return u, ""
}

// isLegacyPost reports whether a request is a legacy HTTP+SSE message
// POST: its URL names the session (every SDK's server puts the session id
// in the endpoint's query) and it does not accept SSE, which every
// Streamable HTTP client must.
func isLegacyPost(h *corev3.HeaderMap) bool {
	if headerValue(h, ":method") != "POST" || strings.Contains(headerValue(h, "accept"), "text/event-stream") {
		return false
	}
	_, query, _ := strings.Cut(headerValue(h, ":path"), "?")
	q, err := url.ParseQuery(query)
	if err != nil {
		return false
	}
	for k := range q {
		switch strings.ToLower(k) {
		case "sessionid", "session_id":
			return true
		}
	}
	return false
}

// legacyPostSession is the session a legacy message POST's URL names.
func legacyPostSession(h *corev3.HeaderMap) string {
	_, query, _ := strings.Cut(headerValue(h, ":path"), "?")
	return legacySessionOf(query)
}

// legacyRefusal delivers a refusal of a legacy message POST the way a
// legacy server answers: the client reads answers only from the SSE
// stream and takes any status but 2xx for a failed send. A refused
// request becomes a stand-in the backend acknowledges 202 and whose
// answer the SSE stream replaces with the gateway's error (refusals.go).
// A refusal of notifications alone is a 202 without a body already. A
// batch, which the stand-in does not carry, is refused with 403, so the
// send fails rather than waiting for ever for an answer on the stream;
// the body still carries the errors.
func (s *stream) legacyRefusal(d Decision) Decision {
	if !s.legacyPost || d.Reject == nil || d.Reject.Status < 200 || d.Reject.Status >= 300 || d.Reject.Status == 202 {
		return d
	}
	if standIn, ok := s.standIn(d.Reject); ok {
		return standIn
	}
	r := *d.Reject
	r.Status = 403
	d.Reject = &r
	return d
}
