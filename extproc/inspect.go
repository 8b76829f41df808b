package extproc

import (
	"context"
	"log/slog"
	"unicode/utf8"

	"github.com/tidwall/gjson"

	"github.com/mcpgate/mcpgate/detectors"
)

// resultKeys and toolKeys are the response keys policy reads. As in
// requests, a duplicate would let the gateway and the client read different
// values (gjson takes the first, most JSON decoders the last).
var (
	resultKeys = []string{"tools", "content", "contents", "messages", "structuredContent", "isError", "instructions",
		"prompts", "resources", "resourceTemplates", "inputRequests", "cacheScope", "ttlMs", "completion", "task"}
	toolKeys = []string{"name", "description", "inputSchema", "title", "annotations", "outputSchema"}
)

// reply is one message from the backend under judgement.
type reply struct {
	raw    []byte
	id     string // raw JSON id to answer with ("null" if none)
	call   call   // the request it answers; zero unless paired
	how    pairing
	method string // the method it answers, "" unless paired
	info   methodInfo
	result gjson.Result
}

// inspectMessage judges one JSON-RPC message (or batch) from the backend and
// returns its replacement if policy changes it.
func (s *stream) inspectMessage(ctx context.Context, raw []byte) ([]byte, bool) {
	s.audit.metrics.Scanned(s.backend, "response", len(raw))
	if out, changed, done := s.tooDeepMessage(ctx, raw); done { // bounds.go
		return out, changed
	}
	if !utf8.Valid(raw) || !gjson.ValidBytes(raw) {
		return s.withholdMessage(ctx, s.soleID(), "malformed_response", "mcpgate: response is not valid UTF-8 JSON")
	}
	root := parseJSON(raw)
	if !root.IsArray() {
		return s.inspectObject(ctx, root, raw)
	}
	var parts [][]byte
	changed := false
	root.ForEach(func(_, el gjson.Result) bool {
		// Parsed again on its own, so offsets inside it index its bytes.
		part := []byte(el.Raw)
		out, ok := s.inspectObject(ctx, parseJSON(part), part)
		changed = changed || ok
		parts = append(parts, out)
		return true
	})
	if !changed {
		return raw, false
	}
	return joinReplies(parts, true), true
}

func (s *stream) inspectObject(ctx context.Context, v gjson.Result, raw []byte) ([]byte, bool) {
	if !v.IsObject() {
		return s.withholdMessage(ctx, s.soleID(), "malformed_response", "mcpgate: response is not a JSON-RPC object")
	}
	// The same envelope parser as for requests, with its duplicate-key
	// guard; it refuses a message with both method and result or error.
	m, err := parseMessage(v)
	if err != nil {
		return s.withholdMessage(ctx, s.soleID(), "ambiguous_response", "mcpgate: response has "+err.Error())
	}
	if m.method != "" {
		return s.judgeServerMessage(ctx, raw, m)
	}
	if m.isResp {
		if out, ok := s.deliverRefusal(m.id); ok {
			return out, true
		}
	}
	r := &reply{raw: raw, id: m.id, result: m.result}
	if r.id == "" {
		r.id = "null"
	}
	r.call, r.how = s.pair(m.id)
	switch {
	case r.how == paired:
		r.method = r.call.method
		info, ok := lookupMethod(r.method)
		if !ok || info.from != fromClient {
			info = unknownKind
		}
		r.info = info
	case m.result.IsObject() && m.result.Get("tools").IsArray():
		// Unpaired or ambiguous: every check that could apply.
		r.info = toolsRow
	default:
		r.info = unknownKind
	}
	hasResult, hasErr := m.result.Exists() && m.result.Type != gjson.Null, m.err.Exists() && m.err.Type != gjson.Null
	switch {
	case hasResult && hasErr:
		// JSON-RPC allows one; clients differ in which they read.
		return s.withholdMessage(ctx, r.id, "ambiguous_response", "mcpgate: response has both a result and an error")
	case hasErr:
		return s.judgeError(ctx, r, m.err)
	case !m.isResp:
		// Neither request nor response: clients drop it, but it is
		// scanned like any unknown kind.
		return s.judgeResult(ctx, r, v)
	case !m.result.IsObject():
		return s.judgeResult(ctx, r, m.result)
	}
	if err := checkObjectKeys(m.result, resultKeys); err != nil {
		return s.withholdMessage(ctx, r.id, "ambiguous_response", "mcpgate: result has "+err.Error())
	}
	return s.judgeResult(ctx, r, m.result)
}

// judgeResult applies a result's row: its list rule, instruction pins,
// then the whole-result scan, withholding behind the row's notice.
func (s *stream) judgeResult(ctx context.Context, r *reply, result gjson.Result) ([]byte, bool) {
	out, changed := r.raw, false
	skip := ""
	if r.info.list != nil && result.IsObject() {
		o, ch, withheld := r.info.list(s, ctx, r)
		if withheld {
			return o, ch
		}
		out, changed, skip = o, ch, r.info.listKey
	}
	if r.info.instructions && r.how == paired {
		if r.method == "initialize" {
			s.scoreInit(ctx, result)
		}
		if o, ch, done := s.instructionsDrift(ctx, r.raw, r.id, result); done {
			out, changed, skip = o, ch, "instructions"
		}
	}
	var findings []detectors.Finding
	s.scanWhole(result, "", skip, &findings)
	if len(findings) == 0 {
		return out, changed
	}
	label := r.method
	if label == "" {
		label = "response"
	}
	eventID := s.nextEventID()
	if findings = s.logFindings(ctx, eventID, label, r.call.tool, findings); !s.withholds(findings) {
		return out, changed
	}
	text := safetyNotice(label, eventID, findings)
	var body []byte
	if r.info.notice != nil {
		if res, ok := r.info.notice(result, text, findings); ok {
			body = resultResponse(r.id, res)
		}
	}
	if body == nil {
		body = errorResponse(r.id, codeContentWithheld, text, map[string]string{"policy": "detectors", "event_id": eventID})
	}
	d := s.enforceEvent(ctx, Decision{Replace: true, Body: body}, eventID, "content_withheld",
		slog.String("policy", "detectors"), slog.String("tool", truncate(r.call.tool, 64)),
		slog.Any("rules", ruleIDs(findings)), slog.String("severity", detectors.MaxSeverity(findings).String()))
	if !d.Replace {
		return out, changed
	}
	return d.Body, true
}

// judgeError scans a JSON-RPC error, which clients show the model like a
// result: its message and data.
func (s *stream) judgeError(ctx context.Context, r *reply, e gjson.Result) ([]byte, bool) {
	var findings []detectors.Finding
	s.scanWhole(e, "error", "", &findings)
	if len(findings) == 0 {
		return r.raw, false
	}
	eventID := s.nextEventID()
	if findings = s.logFindings(ctx, eventID, "error", r.call.tool, findings); !s.withholds(findings) {
		return r.raw, false
	}
	code := codeContentWithheld
	if c := e.Get("code"); c.Type == gjson.Number && c.Raw == c.String() {
		code = int(c.Int())
	}
	body := errorResponse(r.id, code, safetyNotice("error", eventID, findings), map[string]string{"policy": "detectors", "event_id": eventID})
	d := s.enforceEvent(ctx, Decision{Replace: true, Body: body}, eventID, "content_withheld",
		slog.String("policy", "detectors"), slog.Any("rules", ruleIDs(findings)),
		slog.String("severity", detectors.MaxSeverity(findings).String()))
	return d.Body, d.Replace
}

// judgeServerMessage scans a request or notification from the server:
// sampling and elicitation requests, log and progress notifications and
// any kind the table lacks, params whole. Withheld params are replaced
// as the row says; a message without a replacement shape is replaced by a
// log notification carrying the notice, which every client accepts (a
// JSON body must stay a JSON-RPC message, and an SSE event stays an
// event).
func (s *stream) judgeServerMessage(ctx context.Context, raw []byte, m message) ([]byte, bool) {
	info, ok := lookupMethod(m.method)
	if !ok || info.from != fromServer {
		info = unknownKind
	}
	var findings []detectors.Finding
	s.scanWhole(m.params, "params", "", &findings)
	if len(findings) == 0 {
		return raw, false
	}
	label := truncate(m.method, 64)
	eventID := s.nextEventID()
	if findings = s.logFindings(ctx, eventID, label, "", findings); !s.withholds(findings) {
		return raw, false
	}
	text := safetyNotice(label, eventID, findings)
	msg := map[string]any{"jsonrpc": "2.0", "method": "notifications/message", "params": logParams(gjson.Result{}, text)}
	if info.replace != nil {
		msg = map[string]any{"jsonrpc": "2.0", "method": m.method, "params": info.replace(m.params, text)}
		if m.id != "" {
			msg["id"] = rawID(m.id)
		}
	}
	out := mustJSON(msg)
	d := s.enforceEvent(ctx, Decision{Replace: true, Body: out}, eventID, "content_withheld",
		slog.String("policy", "detectors"), slog.Any("rules", ruleIDs(findings)), slog.Bool("replaced_by_log", info.replace == nil))
	if !d.Replace {
		return raw, false
	}
	return d.Body, true
}

// withholdMessage replaces a message with a JSON-RPC error for id (active
// mode) or logs that it would have (passive).
func (s *stream) withholdMessage(ctx context.Context, id, event, msg string) ([]byte, bool) {
	if id == "" {
		id = "null"
	}
	d := s.enforce(ctx, Decision{Replace: true, Body: errorResponse(id, codeUninspectable, msg, nil)},
		event, slog.String("reason", msg))
	return d.Body, d.Replace
}

// checkObjectKeys applies checkKey to every key of an object.
func checkObjectKeys(v gjson.Result, watched []string) error {
	var seen []string
	var err error
	v.ForEach(func(k, _ gjson.Result) bool {
		key := k.String()
		if err = checkKey(seen, key, watched); err != nil {
			return false
		}
		seen = append(seen, key)
		return true
	})
	return err
}

// truncate bounds an attacker-chosen string before it is logged.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
