package extproc

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strings"
	"unicode/utf8"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	filterv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"github.com/tidwall/gjson"

	"github.com/mcpgate/mcpgate/internal/jsondepth"
)

// phase is the ext_proc message a decision answers.
type phase int

const (
	phaseRequestHeaders phase = iota
	phaseRequestBody
	phaseResponseHeaders
	phaseResponseBody
	phaseRequestTrailers
	phaseResponseTrailers
)

// call is what a request said, kept to judge its response.
type call struct {
	rawID  string // the id as the client wrote it, to answer with
	method string
	tool   string
	paged  bool // a tools/list asking for a later page (params.cursor)
}

// stream is the state of one ext_proc stream, that is one HTTP exchange:
// the MCP meaning of the request and how the response is being read.
type stream struct {
	id      string
	log     *slog.Logger
	policy  *Policy        // &resolved
	scanner contentScanner // nil: detectors off
	pins    *pinGuard      // nil: pinning off
	scores  *scoreBoard    // nil: not scoring
	backend string
	rules   BackendPolicy
	unknown bool // the route names a backend the policy lacks: refuse
	headers bool // the request headers were seen (and auth checked on them)
	// resolved is the backend's effective policy, kept in the stream so
	// resolving costs no allocation of its own.
	resolved Policy
	events   int         // findings and decisions logged so far, for event ids
	audit    streamAudit // audit trail, metrics and Envoy metadata

	session string
	calls   map[idKey]call // by normalised id (ids.go); notifications are not kept
	// mcpMethod and mcpName are the 2026-07-28 Mcp-Method and Mcp-Name
	// request headers (nil: absent), which must agree with the body.
	mcpMethod, mcpName *string
	reqBody            []byte // request body chunks if Envoy streams them

	respMode   bodyMode
	gzipped    bool
	untyped    bool   // buffered although no client parses it by its content type
	respBody   []byte // buffered response chunks
	sse        *sseSplitter
	sseStarted bool // the first SSE event was judged (a BOM can only start the stream)
	get        bool // the request is a GET: its SSE stream may carry a legacy endpoint event
	legacyPost bool // a legacy HTTP+SSE message POST (legacy.go)
	// legacySession is the legacy session a message POST's URL names, or
	// on a GET the one its endpoint event named (refusals.go).
	legacySession string
	refusals      *refusalBook // nil: refusals are not recorded
	dropping      bool         // active mode is discarding an oversized SSE event
	oauth         resourceRewriter
}

// newStream resolves the backend's effective policy once: a reload
// swaps p for new streams and never changes this one's.
func newStream(id string, log *slog.Logger, p *Policy, sc contentScanner, backend string) *stream {
	eff, rules, ok := p.resolve(backend)
	if !ok {
		eff = *p // for the log line's mode; the stream only refuses
	}
	s := &stream{
		id:       id,
		log:      log.With("stream", id, "backend", backend),
		scanner:  sc,
		backend:  backend,
		rules:    rules,
		unknown:  !ok,
		resolved: eff,
		calls:    map[idKey]call{},
		audit:    streamAudit{log: log, metrics: nopMetrics{}},
	}
	s.policy = &s.resolved
	return s
}

// handle runs one step of the state machine and returns Envoy's reply.
func (s *stream) handle(ctx context.Context, req *extprocv3.ProcessingRequest) (*extprocv3.ProcessingResponse, error) {
	if s.unknown {
		return s.refuseUnknownBackend(ctx).toProcessingResponse(phaseRequestHeaders), nil
	}
	if d, refused := s.requireHeaders(ctx, req); refused {
		return d.toProcessingResponse(phaseRequestHeaders), nil
	}
	switch r := req.Request.(type) {
	case *extprocv3.ProcessingRequest_RequestHeaders:
		return s.requestHeaders(ctx, r.RequestHeaders).toProcessingResponse(phaseRequestHeaders), nil
	case *extprocv3.ProcessingRequest_RequestBody:
		if pc := req.GetProtocolConfig(); pc != nil && pc.RequestBodyMode != filterv3.ProcessingMode_BUFFERED &&
			pc.RequestBodyMode != filterv3.ProcessingMode_STREAMED {
			return nil, fmt.Errorf("request_body_mode %s: mcpgate needs BUFFERED", pc.RequestBodyMode)
		}
		return s.legacyRefusal(s.requestBody(ctx, r.RequestBody)).toProcessingResponse(phaseRequestBody), nil
	case *extprocv3.ProcessingRequest_ResponseHeaders:
		d := s.responseHeaders(ctx, r.ResponseHeaders)
		d.SetHeaders = append(d.SetHeaders, s.oauth.challenge(r.ResponseHeaders.GetHeaders())...)
		return d.toProcessingResponse(phaseResponseHeaders), nil
	case *extprocv3.ProcessingRequest_ResponseBody:
		return s.responseBody(ctx, r.ResponseBody).toProcessingResponse(phaseResponseBody), nil
	case *extprocv3.ProcessingRequest_RequestTrailers:
		return Decision{}.toProcessingResponse(phaseRequestTrailers), nil
	case *extprocv3.ProcessingRequest_ResponseTrailers:
		return Decision{}.toProcessingResponse(phaseResponseTrailers), nil
	default:
		return nil, fmt.Errorf("unexpected ext_proc message %T", r)
	}
}

// requestHeaders carry the session id. The JSON-RPC body, not the
// Mcp-Method/Mcp-Name headers, decides policy, since the body is what the
// backend executes; the headers are kept so that judgeRequest refuses a
// body that disagrees with them, as the spec asks of intermediaries (an
// intermediary routing on the header would otherwise see another call).
func (s *stream) requestHeaders(ctx context.Context, h *extprocv3.HttpHeaders) Decision {
	if v := headerValue(h.GetHeaders(), "mcp-session-id"); v != "" {
		s.setSession(v)
	}
	s.mcpMethod, s.mcpName = headerPtr(h.GetHeaders(), "mcp-method"), headerPtr(h.GetHeaders(), "mcp-name")
	if v := headerValue(h.GetHeaders(), "mcp-protocol-version"); v != "" {
		s.log = s.log.With("protocol_version", truncate(v, 32))
		s.audit.protocol = truncate(v, 32)
	}
	s.oauth.request(h.GetHeaders())
	s.get = headerValue(h.GetHeaders(), ":method") == "GET"
	s.legacyPost = isLegacyPost(h.GetHeaders())
	if s.legacyPost {
		s.legacySession = legacyPostSession(h.GetHeaders())
	}
	return s.authenticate(ctx, h.GetHeaders())
}

func (s *stream) requestBody(ctx context.Context, b *extprocv3.HttpBody) Decision {
	if len(s.reqBody)+len(b.Body) > s.policy.MaxBodyBytes {
		return s.rejectTooLarge(ctx)
	}
	if !b.EndOfStream {
		// Envoy is streaming the request (a config other than ours): hold
		// every chunk and judge the whole body at the end.
		s.reqBody = append(s.reqBody, b.Body...)
		return Decision{Replace: true}
	}
	body := b.Body
	held := len(s.reqBody) > 0
	if held {
		body = append(s.reqBody, b.Body...)
		s.reqBody = nil
	}
	d := s.judgeRequest(ctx, body)
	if held && !d.Replace && d.Reject == nil {
		d = Decision{Replace: true, Body: body}
	}
	return d
}

func (s *stream) judgeRequest(ctx context.Context, body []byte) Decision {
	if d, refused := s.refuseTooDeep(ctx, body); refused {
		return d
	}
	if s.oauth.oauthForm(body) {
		return Decision{}
	}
	msgs, batch, err := parseBody(body)
	if err != nil {
		code := codeInvalidRequest
		if err == errInvalidJSON || err == errInvalidUTF8 {
			code = codeParseError
		}
		return s.badRequest(ctx, code, err.Error(), "bad_request")
	}
	s.audit.metrics.Scanned(s.backend, "request", len(body))
	for _, m := range msgs {
		if known, near := nearMethod(m.method); near {
			return s.badRequest(ctx, codeInvalidRequest,
				fmt.Sprintf("method %q differs from %q only by case, space or control characters", truncate(m.method, 64), known), "method_variant")
		}
	}
	if len(msgs) == 1 {
		s.log = s.log.With("method", msgs[0].method)
		s.audit.method = truncate(msgs[0].method, 64)
	}
	for _, m := range msgs {
		if d, refused := s.checkMcpHeaders(ctx, m); refused {
			return d
		}
	}
	var denied []message
	for _, m := range msgs {
		if m.method == "" {
			continue // a response to a server request
		}
		s.audit.metrics.Message(s.backend, m.method, m.tool)
		if m.id != "" {
			s.remember(m.id, call{method: m.method, tool: m.tool, paged: m.paged})
		}
		if info, _ := lookupMethod(m.method); info.allowlist && !s.rules.toolAllowed(m.tool) {
			denied = append(denied, m)
		}
	}
	if len(denied) == 0 {
		if d, refused := s.refuseLowScore(ctx, msgs, batch); refused {
			return d
		}
		if d, refused := s.refuseInputResponses(ctx, msgs, batch); refused {
			return d
		}
		return s.refuseDrifted(ctx, msgs, batch)
	}
	// A batch with one denied call is refused whole: forwarding the rest
	// would mean rewriting the batch and merging the gateway's errors into
	// the backend's response, and a client sending batches gets a clear
	// error per request either way.
	eventID := s.nextEventID()
	msg := fmt.Sprintf("mcpgate: tool %q is not allowed by policy tool_allowlist (backend %s)", denied[0].tool, s.backend)
	data := map[string]string{"policy": "tool_allowlist", "event_id": eventID}
	status, out := rejectAll(msgs, batch, codePolicyDenied, msg, data)
	tools := make([]string, len(denied))
	for i, m := range denied {
		tools[i] = m.tool
	}
	return s.enforceEvent(ctx, Decision{Reject: &Reject{Status: status, Body: out, Details: "mcpgate_tool_not_allowed"}},
		eventID, "tool_not_allowed", slog.String("policy", "tool_allowlist"), slog.Any("tools", tools), slog.Bool("batch", batch))
}

// badRequest refuses a body mcpgate will not pass as it is (HTTP 400).
func (s *stream) badRequest(ctx context.Context, code int, reason, event string) Decision {
	return s.enforce(ctx, Decision{Reject: &Reject{
		Status:  400,
		Body:    errorResponse("null", code, "mcpgate: "+reason, nil),
		Details: "mcpgate_bad_request",
	}}, event, slog.String("reason", reason))
}

func (s *stream) rejectTooLarge(ctx context.Context) Decision {
	s.reqBody = nil
	msg := fmt.Sprintf("mcpgate: request body larger than %d bytes", s.policy.MaxBodyBytes)
	// Not subject to passive mode: a body this large cannot be judged, and
	// Envoy refuses it with 413 too when its buffer limit matches.
	return s.enforceAlways(ctx, Decision{Reject: &Reject{
		Status: 413, Body: errorResponse("null", codeInvalidRequest, msg, nil), Details: "mcpgate_body_too_large",
	}}, "body_too_large")
}

func (s *stream) responseHeaders(ctx context.Context, h *extprocv3.HttpHeaders) Decision {
	hm := h.GetHeaders()
	if v := headerValue(hm, "mcp-session-id"); v != "" && s.session == "" {
		s.setSession(v)
	}
	if d, ok := s.oauth.responseHeaders(hm); ok {
		return d
	}
	if h.EndOfStream {
		return Decision{}
	}
	enc := strings.ToLower(strings.TrimSpace(headerValue(hm, "content-encoding")))
	media := classifyMedia(hm)
	if d, done := s.unjudgeableMedia(ctx, hm, media); done {
		return d
	}
	switch {
	case media.sse:
		s.respMode = bodyStreamed
		s.sse = newSSESplitter(s.policy.MaxBodyBytes)
	case media.json:
		s.respMode = bodyBuffered
	case s.answersCalls(hm):
		// No client parses this body as MCP by its content type; judged as
		// JSON if it is JSON (a client might sniff it), refused otherwise
		// (passive mode logs either).
		s.respMode, s.untyped = bodyBuffered, true
	default:
		return Decision{}
	}
	switch {
	case enc == "" || enc == "identity":
	case enc == "gzip" && s.respMode == bodyBuffered:
		s.gzipped = true
	default:
		// Compressed SSE or an encoding mcpgate does not decode cannot be
		// inspected; the bundled route strips accept-encoding so a
		// well-behaved backend never sends one.
		s.respMode = bodyNone
		d := Decision{Reject: &Reject{Status: 502,
			Body:    errorResponse(s.soleID(), codeUninspectable, fmt.Sprintf("mcpgate: response with content-encoding %q cannot be inspected", enc), nil),
			Details: "mcpgate_uninspectable_encoding"}}
		return s.enforce(ctx, d, "uninspectable_response", slog.String("content_encoding", enc))
	}
	d := Decision{Mode: s.respMode}
	if s.respMode == bodyStreamed {
		// Chunks may be held back or replaced; a length cannot be known.
		d.RemoveHeaders = []string{"content-length"}
	}
	return d
}

func (s *stream) responseBody(ctx context.Context, b *extprocv3.HttpBody) Decision {
	if s.oauth.active {
		return s.oauth.responseBody(b)
	}
	switch s.respMode {
	case bodyBuffered:
		return s.bufferedBody(ctx, b)
	case bodyStreamed:
		return s.streamedBody(ctx, b)
	default:
		return Decision{}
	}
}

func (s *stream) bufferedBody(ctx context.Context, b *extprocv3.HttpBody) Decision {
	if !b.EndOfStream {
		s.respBody = append(s.respBody, b.Body...)
		return Decision{Replace: true} // hold until the whole body is here
	}
	orig := b.Body // the usual case: BUFFERED delivers the body in one message
	if len(s.respBody) > 0 {
		orig = append(s.respBody, b.Body...)
		s.respBody = nil
	}
	body := orig
	if s.gzipped {
		plain, err := gunzip(orig, s.policy.MaxBodyBytes)
		if err != nil {
			return s.withholdBody(ctx, "uninspectable_response", fmt.Sprintf("mcpgate: gzip response could not be decoded: %v", err))
		}
		body = plain
	}
	if s.untyped && !s.parses(body) {
		d := s.withholdBody(ctx, "uninspectable_response", "mcpgate: response to a JSON-RPC request is neither JSON nor SSE")
		if d.Replace {
			d.SetHeaders = append(d.SetHeaders, hdr{"content-type", "application/json"})
		}
		return d
	}
	out, changed := s.inspectMessage(ctx, body)
	if !changed {
		// The bundled config keeps content-length (allow_content_length_header),
		// so every buffered reply states it, matching the body sent on.
		return Decision{Body: orig, ContentLength: true}
	}
	d := Decision{Replace: true, Body: out, ContentLength: true}
	if s.gzipped {
		d.RemoveHeaders = []string{"content-encoding"}
	}
	return d
}

// unjudgeableMedia refuses, at the headers, a response body whose content
// type makes clients disagree on how to read it (mediatype.go): one that
// some client parses as JSON and another as SSE, or a charset other than
// UTF-8. Passive mode logs it and passes the body unread.
func (s *stream) unjudgeableMedia(ctx context.Context, hm *corev3.HeaderMap, media mediaView) (Decision, bool) {
	var reason string
	switch {
	case media.ambiguous():
		reason = "content type is read as JSON by some clients and as SSE by others"
	case (media.json || media.sse) && media.charset != "":
		reason = "charset " + media.charset + " is not UTF-8"
	default:
		return Decision{}, false
	}
	d := Decision{Reject: &Reject{Status: 502,
		Body:    errorResponse(s.soleID(), codeUninspectable, "mcpgate: response cannot be inspected: "+reason, nil),
		Details: "mcpgate_uninspectable_content_type"}}
	return s.enforce(ctx, d, "uninspectable_response", slog.String("reason", reason), slog.String("content_type", media.header)), true
}

// answersCalls reports whether a response answers JSON-RPC calls with a
// body: a 2xx to a request that made calls. Other responses without an
// MCP content type (OAuth pages, downloads, errors) are no client's MCP
// messages and pass as they are, and so is a 202's body (the legacy SSE
// servers of the TS and Python SDKs send "Accepted" as text), which no
// client reads.
func (s *stream) answersCalls(hm *corev3.HeaderMap) bool {
	status := headerValue(hm, ":status")
	return len(s.calls) > 0 && len(status) == 3 && status[0] == '2' && status != "202" && status != "204"
}

// withholdBody replaces a buffered JSON body with an error (active mode).
func (s *stream) withholdBody(ctx context.Context, event, msg string) Decision {
	d := Decision{Replace: true, Body: errorResponse(s.soleID(), codeUninspectable, msg, nil), ContentLength: true}
	if s.gzipped {
		d.RemoveHeaders = []string{"content-encoding"}
	}
	return s.enforce(ctx, d, event, slog.String("reason", msg))
}

func (s *stream) streamedBody(ctx context.Context, b *extprocv3.HttpBody) Decision {
	heldBefore := s.sse.held()
	pieces := s.sse.feed(b.Body)
	if b.EndOfStream {
		if p := s.sse.rest(); len(p.data) > 0 {
			pieces = append(pieces, p)
		}
	}
	// The usual chunk is whole events, all passed: answer without copying.
	// Only a replacement, a drop or bytes held across chunks need a body.
	var replaced [][]byte // made on the first replacement; nil entry: the piece as it came
	emitted := 0
	for i, p := range pieces {
		emitted += len(p.data)
		if r, ok := s.judgePiece(ctx, p); ok {
			if replaced == nil {
				replaced = make([][]byte, len(pieces))
			}
			replaced[i] = r
		}
	}
	if replaced == nil && heldBefore == 0 && emitted == len(b.Body) {
		return Decision{}
	}
	out := make([]byte, 0, emitted)
	for i, p := range pieces {
		if replaced != nil && replaced[i] != nil {
			out = append(out, replaced[i]...)
		} else {
			out = append(out, p.data...)
		}
	}
	return Decision{Replace: true, Body: out}
}

// judgePiece returns what replaces one piece of an SSE stream, if anything
// does: an inspected event's new encoding, the notice for an oversized
// event (active mode), or an empty slice to drop the rest of one.
//
// An event is judged as every official client would read it (README,
// "Parsing rules"): by the SSE spec, as the TS and Python SDKs do, after
// a leading BOM (which TS drops with the UTF-8 decoding); and by the Go
// SDK's reading where that differs (lone CRs, and an event the stream
// ends in without a blank line, which only the Go SDK dispatches).
func (s *stream) judgePiece(ctx context.Context, p ssePiece) ([]byte, bool) {
	if p.oversized {
		if s.policy.Mode != Active {
			s.logEvent(ctx, "would_withhold", "", "sse_event_too_large")
			return nil, false
		}
		if s.dropping {
			return []byte{}, true
		}
		s.dropping = true
		return s.oversizedNotice(ctx), true
	}
	s.dropping = false
	raw := p.data
	if !s.sseStarted {
		s.sseStarted = true
		raw = bytes.TrimPrefix(raw, utf8BOM)
	}
	ev := parseSSEEvent(raw)
	// An endpoint event's URL is checked instead of being parsed as a
	// message; the Go SDK's reading of it still is, below: the Go client
	// takes any later event's data, endpoint or not, for a message.
	endpoint := s.get && isEndpointEvent(ev)
	if endpoint {
		if out, changed := s.judgeEndpoint(ctx, ev); changed {
			return out, true
		}
	}
	// An event with empty data (a resumable server's priming event: an id
	// and "data:") is never dispatched to the client, so it carries no
	// message to judge; its id must still reach the client.
	// An event the stream ends in without a blank line is dispatched by
	// the Go SDK alone, which then fails on it unless it is JSON.
	hasData := ev.hasData && len(ev.data) > 0
	// judged: the spec's reading was judged and passed. A complete event
	// whose data is not JSON is withheld in active mode and logged as such
	// in passive mode, so a judged one needs no Go reading if its lines
	// are the same to the Go SDK (see goSDKData).
	judged := false
	if !endpoint && hasData && (!p.unfinished || s.parses(ev.data)) {
		if data, ok := s.inspectMessage(ctx, ev.data); ok {
			return ev.encode(data), true
		}
		judged = true
	}
	// The Go SDK's reading is judged too when it is a message: where it
	// is not JSON the Go client fails on it, whatever mcpgate does.
	if alt, ok := goSDKData(p.data, ev, judged || !hasData); ok && s.parses(alt) {
		if data, ok := s.inspectMessage(ctx, alt); ok {
			// Lines the spec reads as unknown fields hold the Go
			// reading's message: only id, event and retry are kept.
			return ev.knownFields().encode(data), true
		}
	}
	// An event ending in a lone CR ends the event for the spec but not
	// the line for the Go SDK, which would read on into the next event
	// ("data:\r\r" then "{...}" is a data line holding a message to it).
	// An LF after the CR changes nothing for the spec (CR LF is one line
	// end) and ends the Go SDK's line, so each event is read on its own.
	if s.policy.Mode == Active && bytes.HasSuffix(p.data, []byte("\r")) {
		return append(bytes.Clone(p.data), '\n'), true
	}
	return nil, false
}

// parses reports whether a client could take b for a JSON message; the
// depth check comes first, as everywhere before gjson (bounds.go).
func (s *stream) parses(b []byte) bool {
	return !jsondepth.Exceeds(b, s.policy.maxDepth()) && utf8.Valid(b) && gjson.ValidBytes(b)
}

// oversizedNotice is the SSE event sent instead of an event too large to
// judge, so the waiting request gets an answer rather than silence.
func (s *stream) oversizedNotice(ctx context.Context) []byte {
	eventID := s.logEvent(ctx, "withhold", "", "sse_event_too_large")
	msg := fmt.Sprintf("mcpgate: SSE event larger than %d bytes withheld (event %s)", s.policy.MaxBodyBytes, eventID)
	return sseEvent{}.encode(errorResponse(s.soleID(), codeUninspectable, msg, nil))
}

// soleID is the id to answer with when the gateway replaces a whole
// response: the request's id if it made exactly one call, else null.
func (s *stream) soleID() string {
	if len(s.calls) == 1 {
		for _, c := range s.calls {
			return c.rawID
		}
	}
	return "null"
}

// setSession records the session for logs. A session id lets anyone who
// holds it speak in the session, so logs carry a digest that still groups
// events by session.
func (s *stream) setSession(id string) {
	sum := sha256.Sum256([]byte(id))
	s.session = hex.EncodeToString(sum[:6])
	s.log = s.log.With("session", s.session)
}

// headerPtr is a header's value, nil when absent. Repeated with different
// values it is the values joined by ", " (as an HTTP intermediary folds
// them), which no method or name equals: readers taking the first and the
// last would disagree.
func headerPtr(hm *corev3.HeaderMap, key string) *string {
	var v *string
	for _, h := range hm.GetHeaders() {
		if !strings.EqualFold(h.Key, key) {
			continue
		}
		val := h.Value
		if len(h.RawValue) > 0 {
			val = string(h.RawValue)
		}
		switch {
		case v == nil:
			v = &val
		case *v != val:
			joined := *v + ", " + val
			v = &joined
		}
	}
	return v
}

func headerValue(hm *corev3.HeaderMap, key string) string {
	for _, h := range hm.GetHeaders() {
		if strings.EqualFold(h.Key, key) {
			if len(h.RawValue) > 0 {
				return string(h.RawValue)
			}
			return h.Value
		}
	}
	return ""
}
