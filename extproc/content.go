package extproc

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/tidwall/gjson"

	"github.com/mcpgate/mcpgate/detectors"
)

// contentScanner is what the gateway needs from the detectors.
type contentScanner interface {
	Scan(text string) []detectors.Finding
	ScanTool(tool []byte) ([]detectors.Finding, error)
}

// skipKeys hold no model-visible text: binary payloads and metadata.
var skipKeys = map[string]bool{"_meta": true, "data": true, "blob": true, "mimeType": true, "type": true}

// scanStrings scans every model-visible string under v (a result or
// params), unescaped as the client will see it, and names each finding's
// JSON path in Field. The walk reads v once (walkStrings, bounds.go).
func (s *stream) scanStrings(v gjson.Result, path *fieldPath, out *[]detectors.Finding) {
	walkStrings(v.Raw, path, func(key string) bool { return skipKeys[key] }, func(p *fieldPath, text string) {
		for _, f := range s.scanner.Scan(text) {
			f.Field = p.String()
			*out = append(*out, f)
		}
	})
}

// withholds reports whether a finding of a withholding category reaches
// the policy's severity threshold.
func (s *stream) withholds(findings []detectors.Finding) bool {
	d := &s.policy.Detectors
	for _, f := range findings {
		if f.Severity >= d.WithholdSeverity && slices.Contains(d.WithholdCategories, f.Category) {
			return true
		}
	}
	return false
}

// logFindings writes one record per finding, all under eventID so the
// notice a client sees leads to every one of them, and returns the findings
// policy acts on: those no suppression matches. source is the method whose
// content was scanned; excerpts are redacted by the detectors.
func (s *stream) logFindings(ctx context.Context, eventID, source, tool string, findings []detectors.Finding) []detectors.Finding {
	now := time.Now()
	var acted []detectors.Finding
	for _, f := range findings {
		r := AuditRecord{EventID: eventID, Event: "finding", Method: source, Tool: tool, Rule: f.Rule,
			Category: string(f.Category), Severity: f.Severity.String(), Field: f.Field, Excerpt: f.Excerpt, Evidence: f.Evidence}
		var details []slog.Attr
		if sup, ok := s.policy.suppression(s.backend, tool, f, now); ok {
			r.Action = "suppressed"
			details = append(details, slog.String("suppression_reason", truncate(sup.Reason, 200)),
				slog.Time("suppression_expires", sup.Expires))
		} else {
			acted = append(acted, f)
			r.WouldAction = "pass"
			if s.withholds([]detectors.Finding{f}) {
				r.WouldAction = "withhold"
			}
			r.Action = "pass"
			if s.policy.Mode == Active {
				r.Action = r.WouldAction
			}
		}
		s.emit(ctx, r, details...)
	}
	return acted
}

// judgeContent scans a result (tools/call, resources/read, prompts/get,
// initialize) and withholds it behind a safety notice when a finding is
// severe enough.
func (s *stream) judgeContent(ctx context.Context, raw []byte, id, method string, result gjson.Result) ([]byte, bool) {
	if s.scanner == nil {
		return raw, false
	}
	var findings []detectors.Finding
	target := result
	if method == "initialize" {
		target = result.Get("instructions")
	}
	s.scanStrings(target, nil, &findings)
	if len(findings) == 0 {
		return raw, false
	}
	eventID := s.nextEventID()
	tool := s.calls[id].tool
	if findings = s.logFindings(ctx, eventID, method, tool, findings); !s.withholds(findings) {
		return raw, false
	}
	notice := safetyNotice(method, eventID, findings)
	replaced, err := noticeResult(method, result, notice)
	if err != nil {
		return s.withholdMessage(ctx, id, "uninspectable_response", "mcpgate: result could not be replaced: "+err.Error())
	}
	out := resultResponse(id, replaced)
	d := s.enforceEvent(ctx, Decision{Replace: true, Body: out}, eventID, "content_withheld",
		slog.String("policy", "detectors"), slog.String("tool", truncate(tool, 64)),
		slog.Any("rules", ruleIDs(findings)), slog.String("severity", detectors.MaxSeverity(findings).String()))
	return d.Body, d.Replace
}

// judgeSampling scans a server-initiated sampling/createMessage request,
// whose messages go straight into the model, and replaces them with the
// notice when needed.
func (s *stream) judgeSampling(ctx context.Context, raw []byte, v gjson.Result) ([]byte, bool) {
	if s.scanner == nil {
		return raw, false
	}
	params := v.Get("params")
	var findings []detectors.Finding
	s.scanStrings(params.Get("messages"), keyStep(nil, "messages"), &findings)
	s.scanStrings(params.Get("systemPrompt"), keyStep(nil, "systemPrompt"), &findings)
	if len(findings) == 0 {
		return raw, false
	}
	eventID := s.nextEventID()
	if findings = s.logFindings(ctx, eventID, "sampling/createMessage", "", findings); !s.withholds(findings) {
		return raw, false
	}
	notice := safetyNotice("sampling/createMessage", eventID, findings)
	var p map[string]json.RawMessage
	if err := json.Unmarshal([]byte(params.Raw), &p); err != nil {
		return s.withholdMessage(ctx, v.Get("id").Raw, "uninspectable_response", "mcpgate: sampling request could not be replaced")
	}
	p["messages"] = mustJSON([]any{map[string]any{"role": "user", "content": textContent(notice)}})
	delete(p, "systemPrompt")
	out := mustJSON(map[string]any{"jsonrpc": "2.0", "id": rawID(v.Get("id").Raw), "method": "sampling/createMessage", "params": p})
	d := s.enforceEvent(ctx, Decision{Replace: true, Body: out}, eventID, "content_withheld",
		slog.String("policy", "detectors"), slog.Any("rules", ruleIDs(findings)))
	return d.Body, d.Replace
}

// safetyNotice tells the model and the user what was withheld and where to
// look, without repeating any of the withheld text.
func safetyNotice(method, eventID string, findings []detectors.Finding) string {
	var cats []string
	for _, f := range findings {
		if !slices.Contains(cats, string(f.Category)) {
			cats = append(cats, string(f.Category))
		}
	}
	rules := ruleIDs(findings)
	if len(rules) > 5 {
		rules = append(rules[:5], "…")
	}
	return fmt.Sprintf("mcpgate withheld this %s content: it matched %s (%s, severity %s). "+
		"The original is not shown because it may contain instructions aimed at the assistant. "+
		"Event %s in the mcpgate log has the details.",
		method, strings.Join(rules, ", "), strings.Join(cats, ", "), detectors.MaxSeverity(findings), eventID)
}

// noticeResult builds the result that replaces a withheld one, in the shape
// its method requires.
func noticeResult(method string, result gjson.Result, notice string) (json.RawMessage, error) {
	switch method {
	case "tools/call":
		return mustJSON(map[string]any{"content": []any{textContent(notice)}, "isError": true}), nil
	case "resources/read":
		uri := result.Get("contents.0.uri").String()
		return mustJSON(map[string]any{"contents": []any{map[string]any{"uri": uri, "mimeType": "text/plain", "text": notice}}}), nil
	case "prompts/get":
		return mustJSON(map[string]any{"messages": []any{map[string]any{"role": "user", "content": textContent(notice)}}}), nil
	case "initialize":
		var r map[string]json.RawMessage
		if err := json.Unmarshal([]byte(result.Raw), &r); err != nil {
			return nil, fmt.Errorf("decode initialize result: %w", err)
		}
		r["instructions"] = mustJSON(notice)
		return mustJSON(r), nil
	}
	return nil, fmt.Errorf("no notice shape for %s", method)
}

func textContent(text string) map[string]any { return map[string]any{"type": "text", "text": text} }

func ruleIDs(findings []detectors.Finding) []string {
	var ids []string
	for _, f := range findings {
		if !slices.Contains(ids, f.Rule) {
			ids = append(ids, f.Rule)
		}
	}
	return ids
}

// mustJSON marshals values built here from strings, maps and raw JSON that
// was already validated, which cannot fail.
func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("extproc: marshal: %v", err))
	}
	return b
}
