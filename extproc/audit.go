package extproc

import (
	"cmp"
	"context"
	"io"
	"log/slog"
	"strings"

	"github.com/mcpgate/mcpgate/audit"
)

// AuditRecord is one line of the audit trail; package audit owns the
// schema and its vocabulary.
type AuditRecord = audit.Record

// NewAuditLogger returns the logger that writes audit records to w as JSON
// lines (audit.NewLogger).
func NewAuditLogger(w io.Writer) *slog.Logger { return audit.NewLogger(w) }

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
	r.Mode, r.Stream, r.Session, r.Backend = string(s.policy.Mode), s.id, s.session, s.backend
	r.ProtocolVersion = s.audit.protocol
	rest := r.Lift(details)
	r.Method = cmp.Or(r.Method, s.audit.method)
	if r.Event == audit.Finding {
		s.audit.metrics.Finding(r.Backend, r.Rule, r.Category, r.Severity, r.Action == audit.Suppressed)
	} else {
		s.audit.metrics.Decision(r.Backend, string(r.Event), string(r.Action), string(r.WouldAction))
		// An observation (a pin diff, a backend's new score) is not what
		// happened to this exchange, so it does not replace the decision
		// Envoy's access log shows.
		if r.Action != audit.Observe {
			s.audit.meta.decided(r)
		}
	}
	audit.Emit(ctx, s.audit.log, r, rest)
	return r.EventID
}

// decide writes one audit decision with its outcome; eventID "" allocates
// one.
func (s *stream) decide(ctx context.Context, o audit.Outcome, eventID string, event audit.Event, attrs ...slog.Attr) string {
	return s.emit(ctx, AuditRecord{EventID: eventID, Event: event, Action: o.Did, WouldAction: o.Would}, attrs...)
}

// outcome is what a decision to take action a does in the stream's mode.
func (s *stream) outcome(a audit.Action) audit.Outcome {
	if s.policy.Mode != Active {
		return audit.Observed(a)
	}
	return audit.Enforced(a)
}

// logEvent writes one audit decision; eventID "" allocates one. It takes
// the action as text for callers that name a passive-mode outcome
// "would_x" (a pass that active mode would have made x).
//
// Deprecated: call decide with an audit.Outcome (s.outcome(a) for a
// decision passive mode only records); stream.go's SSE limit is the last
// caller.
func (s *stream) logEvent(ctx context.Context, action, eventID, event string, attrs ...slog.Attr) string {
	o := audit.Enforced(audit.Action(action))
	if a, ok := strings.CutPrefix(action, "would_"); ok {
		o = audit.Observed(audit.Action(a))
	}
	return s.decide(ctx, o, eventID, audit.Event(event), attrs...)
}
