package extproc

// The list rules of the method table: tools/list, prompts/list,
// resources/list and resources/templates/list results are judged entry by
// entry, and the entries policy hides are spliced out of the backend's
// bytes.

import (
	"bytes"
	"context"
	"log/slog"

	"github.com/tidwall/gjson"

	"github.com/mcpgate/mcpgate/detectors"
)

// judgeToolList is tools/list's list rule: it rescores the backend and
// removes the tools the allowlist does not admit, that drifted from their
// pin or that the detectors find poisoned.
func (s *stream) judgeToolList(ctx context.Context, r *reply) ([]byte, bool, bool) {
	if out, refused := s.scoreTools(ctx, r.id, r.call, r.result); refused {
		return out, true, true
	}
	return s.filterTools(ctx, r)
}

// filterTools splices the kept tools into the original bytes so everything
// else (id, other fields, key order) stays as the backend sent it.
func (s *stream) filterTools(ctx context.Context, r *reply) ([]byte, bool, bool) {
	raw, id := r.raw, r.id
	tools := r.result.Get("tools")
	if !tools.IsArray() {
		return raw, false, false
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
		out, ch := s.withholdMessage(ctx, id, "ambiguous_response", "mcpgate: tool has "+bad.Error())
		return out, ch, true
	}
	eventID := s.nextEventID()
	drifted := s.pinCheck(ctx, toolList, eventID, r.call, r.result, all)
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
		return raw, false, false
	}
	out, ok := spliceList(raw, r.result, tools, kept)
	if !ok {
		o, ch := s.withholdMessage(ctx, id, "uninspectable_response", "mcpgate: tools/list result could not be filtered")
		return o, ch, true
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
	if !d.Replace {
		return raw, false, false
	}
	return d.Body, true, false
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
	s.scanKeys(t, "", false, &findings)
	return s.withholds(s.logFindings(ctx, eventID, "tools/list", name, findings))
}

// entryList is the list rule of prompts/list, resources/list and
// resources/templates/list: entries that drifted from their pin (when the
// list is pinned) or whose text the detectors withhold are removed.
func entryList(field string, list *pinnedList) func(*stream, context.Context, *reply) ([]byte, bool, bool) {
	return func(s *stream, ctx context.Context, r *reply) ([]byte, bool, bool) {
		return s.filterEntries(ctx, r, field, list)
	}
}

func (s *stream) filterEntries(ctx context.Context, r *reply, field string, list *pinnedList) ([]byte, bool, bool) {
	arr := r.result.Get(field)
	if !arr.IsArray() {
		return r.raw, false, false
	}
	var all []gjson.Result
	var bad error
	arr.ForEach(func(_, e gjson.Result) bool {
		if bad = checkObjectKeys(e, []string{"name", "description", "arguments", "uri", "uriTemplate", "title"}); bad != nil {
			return false
		}
		all = append(all, e)
		return true
	})
	if bad != nil {
		out, ch := s.withholdMessage(ctx, r.id, "ambiguous_response", "mcpgate: "+field+" entry has "+bad.Error())
		return out, ch, true
	}
	eventID := s.nextEventID()
	var drifted map[string]bool
	if list != nil && s.pins != nil {
		drifted = s.pinCheck(ctx, *list, eventID, r.call, r.result, all)
	}
	var kept [][]byte
	var changed, poisoned []string
	for _, e := range all {
		name := e.Get("name").String()
		var findings []detectors.Finding
		s.scanWhole(e, field, "", &findings)
		switch {
		case drifted[name]:
			changed = append(changed, truncate(name, 64))
		case len(findings) > 0 && s.withholds(s.logFindings(ctx, eventID, r.method, name, findings)):
			poisoned = append(poisoned, truncate(name, 64))
		default:
			kept = append(kept, []byte(e.Raw))
		}
	}
	if len(changed)+len(poisoned) == 0 {
		return r.raw, false, false
	}
	out, ok := spliceList(r.raw, r.result, arr, kept)
	if !ok {
		o, ch := s.withholdMessage(ctx, r.id, "uninspectable_response", "mcpgate: "+field+" could not be filtered")
		return o, ch, true
	}
	var attrs []slog.Attr
	if len(changed) > 0 {
		attrs = append(attrs, slog.String("policy", "tool_pinning"), slog.Any("drifted", changed))
	}
	if len(poisoned) > 0 {
		attrs = append(attrs, slog.Any("poisoned", poisoned))
	}
	d := s.enforceEvent(ctx, Decision{Replace: true, Body: out}, eventID, "list_filtered",
		append([]slog.Attr{slog.String("list", field)}, attrs...)...)
	if !d.Replace {
		return r.raw, false, false
	}
	return d.Body, true, false
}

// spliceList replaces the array arr of result (both parsed from raw) with
// the kept elements, leaving every other byte as the backend sent it. A
// filtered list is no longer the same for every user, so a result that
// offers caching (2026-07-28 ttlMs, cacheScope) is marked cacheScope
// "private": a shared cache must not serve one user's view to another.
func spliceList(raw []byte, result, arr gjson.Result, kept [][]byte) ([]byte, bool) {
	start, end := arr.Index, arr.Index+len(arr.Raw)
	if start <= 0 || end > len(raw) || !bytes.Equal(raw[start:end], []byte(arr.Raw)) {
		return nil, false
	}
	list := append(append([]byte{'['}, bytes.Join(kept, []byte{','})...), ']')
	type edit struct {
		start, end int
		with       []byte
	}
	edits := []edit{{start, end, list}}
	scope := result.Get("cacheScope")
	switch {
	case scope.Exists():
		edits = append(edits, edit{scope.Index, scope.Index + len(scope.Raw), []byte(`"private"`)})
	case result.Get("ttlMs").Exists():
		at := result.Index + 1
		if result.Index <= 0 || at > len(raw) || raw[result.Index] != '{' {
			return nil, false
		}
		edits = append(edits, edit{at, at, []byte(`"cacheScope":"private",`)})
	}
	if len(edits) == 2 && edits[1].start < edits[0].start {
		edits[0], edits[1] = edits[1], edits[0]
	}
	out := make([]byte, 0, len(raw)+32)
	prev := 0
	for _, e := range edits {
		if e.start < prev || e.end > len(raw) || e.start < 0 {
			return nil, false
		}
		out = append(append(out, raw[prev:e.start]...), e.with...)
		prev = e.end
	}
	return append(out, raw[prev:]...), true
}
