package audit

import (
	"bytes"
	"encoding/json"
	"time"
)

// Record is one line of the audit trail: a finding or a decision. The
// field names and meanings are a stable, documented schema
// (docs/audit-trail.md); `mcpgate report` reads lines back into this type.
// No field ever holds a secret or personal datum: excerpts are redacted by
// the detectors, the session is a digest, attacker-chosen strings are
// truncated.
type Record struct {
	Time time.Time `json:"time"`
	// EventID is "<stream>-<n>". A decision and the findings that led to it
	// share one id, which the client-visible notice and Envoy's access log
	// (dynamic metadata "mcpgate") carry too.
	EventID string `json:"event_id"`
	// Event names what happened: Finding, or a decision.
	Event Event `json:"event"`
	// Mode is the policy mode of the stream: passive or active.
	Mode string `json:"mode"`
	// Action is what mcpgate did.
	Action Action `json:"action"`
	// WouldAction is what active mode does with the same input; in active
	// mode it equals Action. Empty for suppressed findings.
	WouldAction     Action `json:"would_action,omitempty"`
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

// Decode reads one audit line strictly: a key the schema does not have is
// an error, so a record written with an undocumented field fails the tests
// that read trails back with it.
func Decode(line []byte) (Record, error) {
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	var r Record
	err := dec.Decode(&r)
	return r, err
}

// IsRecord reports whether r is an audit record rather than another JSON
// line (the operational log shares stdout with the trail by default).
func (r Record) IsRecord() bool { return r.EventID != "" && r.Event != "" }
