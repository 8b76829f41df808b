package extproc

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/mcpgate/mcpgate/detectors"
)

// contentScanner is what the gateway needs from the detectors.
type contentScanner interface {
	Scan(text string) []detectors.Finding
	ScanTool(tool []byte) ([]detectors.Finding, error)
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
