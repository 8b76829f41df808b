package extproc

import (
	"bytes"
	"context"
	"log/slog"
	"unicode/utf8"

	"github.com/tidwall/gjson"
)

// resultKeys and toolKeys are the response keys policy reads. As in
// requests, a duplicate would let the gateway and the client read different
// values (gjson takes the first, most JSON decoders the last).
var (
	resultKeys = []string{"tools", "content", "contents", "messages", "structuredContent", "isError", "instructions"}
	toolKeys   = []string{"name", "description", "inputSchema", "title", "annotations"}
)

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
		out, ok := s.inspectObject(ctx, el, []byte(el.Raw))
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
	// The same envelope parser as for requests, with its duplicate-key guard.
	m, err := parseMessage(v)
	if err != nil {
		return s.withholdMessage(ctx, s.soleID(), "ambiguous_response", "mcpgate: response has "+err.Error())
	}
	if m.method != "" {
		// A server-initiated request or notification; sampling requests
		// put the server's text straight into the model.
		if m.method == "sampling/createMessage" {
			return s.judgeSampling(ctx, raw, v)
		}
		return raw, false
	}
	id, result := m.id, m.result
	if !result.IsObject() {
		return raw, false
	}
	if err := checkObjectKeys(result, resultKeys); err != nil {
		return s.withholdMessage(ctx, id, "ambiguous_response", "mcpgate: result has "+err.Error())
	}
	method := s.calls[id].method
	if method == "" {
		method = classifyResult(result)
	}
	switch method {
	case "tools/list":
		if out, refused := s.scoreTools(ctx, id, result); refused {
			return out, true
		}
		return s.filterTools(ctx, raw, id, result)
	case "initialize":
		s.scoreInit(ctx, result)
		if out, changed, done := s.instructionsDrift(ctx, raw, id, result); done {
			return out, changed
		}
		return s.judgeContent(ctx, raw, id, method, result)
	case "tools/call", "resources/read", "prompts/get":
		return s.judgeContent(ctx, raw, id, method, result)
	case "prompts/list":
		return s.filterPinned(ctx, raw, id, result, "prompts", promptList)
	case "resources/templates/list":
		return s.filterPinned(ctx, raw, id, result, "resourceTemplates", templateList)
	}
	return raw, false
}

// classifyResult names the method a result answers from its shape, for
// responses whose request mcpgate did not see (e.g. on a GET stream).
func classifyResult(r gjson.Result) string {
	switch {
	case r.Get("tools").IsArray():
		return "tools/list"
	case r.Get("content").IsArray():
		return "tools/call"
	case r.Get("contents").IsArray():
		return "resources/read"
	case r.Get("messages").IsArray():
		return "prompts/get"
	case r.Get("prompts").IsArray():
		return "prompts/list"
	case r.Get("resourceTemplates").IsArray():
		return "resources/templates/list"
	case r.Get("protocolVersion").Exists() && r.Get("capabilities").Exists():
		return "initialize"
	}
	return ""
}

// filterTools removes tools the allowlist does not admit from a tools/list
// result, splicing the new array into the original bytes so everything else
// (id, other fields, key order) stays as the backend sent it.
func (s *stream) filterTools(ctx context.Context, raw []byte, id string, result gjson.Result) ([]byte, bool) {
	tools := result.Get("tools")
	if !tools.IsArray() {
		return raw, false
	}
	var all []gjson.Result
	var bad error
	tools.ForEach(func(_, t gjson.Result) bool {
		if bad = checkObjectKeys(t, toolKeys); bad != nil {
			return false
		}
		all = append(all, t)
		return true
	})
	if bad != nil {
		return s.withholdMessage(ctx, id, "ambiguous_response", "mcpgate: tool has "+bad.Error())
	}
	eventID := s.nextEventID()
	drifted := s.pinCheck(ctx, toolList, eventID, id, result, all)
	var kept [][]byte
	var removed, poisoned, changed []string
	for _, t := range all {
		name := t.Get("name").String()
		switch {
		case !s.rules.toolAllowed(name):
			removed = append(removed, truncate(name, 64))
		case drifted[name]:
			changed = append(changed, truncate(name, 64))
		case s.toolPoisoned(ctx, eventID, name, t):
			poisoned = append(poisoned, truncate(name, 64))
		default:
			kept = append(kept, []byte(t.Raw))
		}
	}
	if len(removed)+len(poisoned)+len(changed) == 0 {
		return raw, false
	}
	out, ok := spliceArray(raw, tools, kept)
	if !ok {
		return s.withholdMessage(ctx, id, "uninspectable_response", "mcpgate: tools/list result could not be filtered")
	}
	attrs := []slog.Attr{}
	if len(removed) > 0 {
		attrs = append(attrs, slog.String("policy", "tool_allowlist"), slog.Any("tools", removed))
	}
	if len(poisoned) > 0 {
		attrs = append(attrs, slog.Any("poisoned_tools", poisoned))
	}
	if len(changed) > 0 {
		attrs = append(attrs, slog.Any("drifted_tools", changed))
	}
	d := s.enforceEvent(ctx, Decision{Replace: true, Body: out}, eventID, "tools_filtered", attrs...)
	return d.Body, d.Replace
}

// toolPoisoned scans one tool definition, logs its findings and reports
// whether they are severe enough to hide the tool.
func (s *stream) toolPoisoned(ctx context.Context, eventID, name string, t gjson.Result) bool {
	if s.scanner == nil {
		return false
	}
	findings, err := s.scanner.ScanTool([]byte(t.Raw))
	if err != nil {
		// The tool is valid JSON inside a valid message, so this is a
		// detector bug; hiding the tool is the safe side.
		s.log.ErrorContext(ctx, "scan tool", "err", err, "tool", truncate(name, 64))
		s.audit.metrics.Error("detector")
		return true
	}
	return s.withholds(s.logFindings(ctx, eventID, "tools/list", name, findings))
}

// spliceArray replaces the array arr (parsed from raw) with the kept
// elements, leaving every other byte as the backend sent it.
func spliceArray(raw []byte, arr gjson.Result, kept [][]byte) ([]byte, bool) {
	start, end := arr.Index, arr.Index+len(arr.Raw)
	if start <= 0 || end > len(raw) || !bytes.Equal(raw[start:end], []byte(arr.Raw)) {
		return nil, false
	}
	out := make([]byte, 0, len(raw))
	out = append(append(out, raw[:start]...), '[')
	out = append(append(out, bytes.Join(kept, []byte{','})...), ']')
	return append(out, raw[end:]...), true
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
