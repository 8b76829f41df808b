package extproc

import (
	"cmp"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"time"
)

// AuditRecord is one line of the audit trail: a finding or a decision. The
// field names and meanings are a stable, documented schema (README, "Audit
// trail"); `mcpgate report` reads lines back into this type. No field ever
// holds a secret or personal datum: excerpts are redacted by the detectors,
// the session is a digest, attacker-chosen strings are truncated.
type AuditRecord struct {
	Time time.Time `json:"time"`
	// EventID is "<stream>-<n>". A decision and the findings that led to it
	// share one id, which the client-visible notice and Envoy's access log
	// (dynamic metadata "mcpgate") carry too.
	EventID string `json:"event_id"`
	// Event names what happened: "finding", or a decision such as
	// tool_not_allowed, content_withheld, tools_filtered, tool_drifted.
	Event string `json:"event"`
	Mode  Mode   `json:"mode"`
	// Action is what mcpgate did: pass, reject, mutate, withhold, observe,
	// or suppressed (a finding a policy suppression matched).
	Action string `json:"action"`
	// WouldAction is what active mode does with the same input; in active
	// mode it equals Action. Empty for suppressed findings.
	WouldAction     string `json:"would_action,omitempty"`
	Stream          string `json:"stream"`
	Session         string `json:"session,omitempty"` // SHA-256 digest prefix, never the id
	Backend         string `json:"backend"`
	ProtocolVersion string `json:"protocol_version,omitempty"`
	Method          string `json:"method,omitempty"`
	Tool            string `json:"tool,omitempty"`
	// Finding fields; Severity is also set on content decisions.
	Rule     string `json:"rule,omitempty"`
	Category string `json:"category,omitempty"`
	Severity string `json:"severity,omitempty"`
	Field    string `json:"field,omitempty"`    // JSON path of the scanned string
	Excerpt  string `json:"excerpt,omitempty"`  // redacted by the detectors
	Evidence string `json:"evidence,omitempty"` // detectors.EvidenceHash of the match
	// Details holds event-specific data (tools removed, pin changes, …).
	Details map[string]json.RawMessage `json:"details,omitempty"`
}

// liftedKeys are attributes that callers pass as details but that have a
// schema field of their own.
var liftedKeys = map[string]bool{"tool": true, "rule": true, "severity": true, "method": true}

// NewAuditLogger returns the logger that writes audit records to w as JSON
// lines, without slog's level and message keys.
func NewAuditLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) == 0 && (a.Key == slog.LevelKey || a.Key == slog.MessageKey) {
				return slog.Attr{}
			}
			return a
		},
	}))
}

// streamAudit is how one stream reports: its audit logger and metrics, and
// the request facts every record repeats.
type streamAudit struct {
	log      *slog.Logger
	metrics  Metrics
	method   string // of a single-message request
	protocol string
	meta     streamMeta
}

// emit writes one audit record, counts it and remembers a decision for
// Envoy's access log. It fills the stream's own fields and returns the
// event id.
func (s *stream) emit(ctx context.Context, r AuditRecord, details ...slog.Attr) string {
	if r.EventID == "" {
		r.EventID = s.nextEventID()
	}
	r.Mode, r.Stream, r.Session, r.Backend = s.policy.Mode, s.id, s.session, s.backend
	r.ProtocolVersion = s.audit.protocol
	var rest []slog.Attr
	for _, a := range details {
		if !liftedKeys[a.Key] || a.Value.Kind() != slog.KindString {
			rest = append(rest, a)
			continue
		}
		v := a.Value.String()
		switch a.Key {
		case "tool":
			r.Tool = cmp.Or(r.Tool, v)
		case "rule":
			r.Rule = cmp.Or(r.Rule, v)
		case "severity":
			r.Severity = cmp.Or(r.Severity, v)
		case "method":
			r.Method = cmp.Or(r.Method, v)
		}
	}
	r.Method = cmp.Or(r.Method, s.audit.method)
	attrs := make([]slog.Attr, 0, 20)
	add := func(k, v string) {
		if v != "" {
			attrs = append(attrs, slog.String(k, v))
		}
	}
	add("event_id", r.EventID)
	add("event", r.Event)
	add("mode", string(r.Mode))
	add("action", r.Action)
	add("would_action", r.WouldAction)
	add("stream", r.Stream)
	add("session", r.Session)
	add("backend", r.Backend)
	add("protocol_version", r.ProtocolVersion)
	add("method", r.Method)
	add("tool", truncate(r.Tool, 64))
	add("rule", r.Rule)
	add("category", r.Category)
	add("severity", r.Severity)
	add("field", truncate(r.Field, 128))
	add("excerpt", r.Excerpt)
	add("evidence", r.Evidence)
	if len(rest) > 0 {
		attrs = append(attrs, slog.Attr{Key: "details", Value: slog.GroupValue(rest...)})
	}
	msg := "mcpgate decision"
	if r.Event == "finding" {
		msg = "mcpgate finding"
		s.audit.metrics.Finding(r.Backend, r.Rule, r.Category, r.Severity, r.Action == "suppressed")
	} else {
		s.audit.metrics.Decision(r.Backend, r.Event, r.Action, r.WouldAction)
		// An observation (a pin diff, a backend's new score) is not what
		// happened to this exchange, so it does not replace the decision
		// Envoy's access log shows.
		if r.Action != "observe" {
			s.audit.meta.decided(r)
		}
	}
	s.audit.log.LogAttrs(ctx, slog.LevelWarn, msg, attrs...)
	return r.EventID
}

// actionPair splits an action as enforce and its callers name it ("reject",
// or "would_reject" in passive mode) into what was done and what active
// mode does.
func actionPair(action string) (did, would string) {
	if a, ok := strings.CutPrefix(action, "would_"); ok {
		return "pass", a
	}
	return action, action
}
