package audit

// Event names what a record is about: Finding, or a decision.
type Event string

// The events mcpgate writes. A new one is added here, in
// docs/audit-trail.md, and, if it is drift, in Event.IsDrift.
const (
	// Finding is one detector match; its decision has the same event id.
	Finding Event = "finding"

	// Request decisions.
	ToolNotAllowed Event = "tool_not_allowed" // tools/call outside allowed_tools
	BadRequest     Event = "bad_request"      // a request body that is not JSON-RPC
	BodyTooLarge   Event = "body_too_large"   // a request body over max_body_bytes
	UnknownBackend Event = "unknown_backend"  // the route names a backend the policy lacks
	Unauthorized   Event = "unauthorized"     // a missing or unknown agent token
	AuthUnchecked  Event = "auth_unchecked"   // the token could not be checked

	// Response decisions.
	ToolsFiltered         Event = "tools_filtered"         // poisoned tools removed from tools/list
	ContentWithheld       Event = "content_withheld"       // a result replaced by the safety notice
	MalformedResponse     Event = "malformed_response"     // not UTF-8 JSON, or not JSON-RPC
	AmbiguousResponse     Event = "ambiguous_response"     // duplicate keys a client could read two ways
	UninspectableResponse Event = "uninspectable_response" // an encoding or shape mcpgate cannot scan
	SSEEventTooLarge      Event = "sse_event_too_large"    // one SSE event over max_body_bytes

	// Pinning.
	ToolDrifted         Event = "tool_drifted"         // a call to a drifted tool
	ListFiltered        Event = "list_filtered"        // drifted entries removed from a list
	InstructionsDrifted Event = "instructions_drifted" // initialize instructions changed
	PinChanges          Event = "pin_changes"          // an observation: the diff against the pin
	PinError            Event = "pin_error"            // the pin store could not be read

	// Score.
	ScoreBelowMinimum Event = "score_below_minimum" // a request to a backend under min_score
	ScoreChanged      Event = "score_changed"       // an observation: a backend's new score
)

// Events lists every event, for documentation tests and tools.
func Events() []Event {
	return []Event{Finding, ToolNotAllowed, BadRequest, BodyTooLarge, UnknownBackend, Unauthorized, AuthUnchecked,
		ToolsFiltered, ContentWithheld, MalformedResponse, AmbiguousResponse, UninspectableResponse, SSEEventTooLarge,
		ToolDrifted, ListFiltered, InstructionsDrifted, PinChanges, PinError, ScoreBelowMinimum, ScoreChanged}
}

// IsDrift reports whether e is about a server changing what it pinned.
func (e Event) IsDrift() bool {
	switch e {
	case ToolDrifted, ListFiltered, InstructionsDrifted, PinChanges:
		return true
	}
	return false
}

// Action is what mcpgate did with an exchange, or what active mode would.
type Action string

const (
	Pass     Action = "pass"     // the exchange went on unchanged
	Reject   Action = "reject"   // a local reply instead of the backend's
	Mutate   Action = "mutate"   // the message was rewritten (filtered, replaced)
	Withhold Action = "withhold" // content replaced by a notice or an error
	// Observe marks a record that is not about this exchange's outcome (a
	// pin diff, a backend's new score).
	Observe Action = "observe"
	// Suppressed is a finding a policy suppression matched.
	Suppressed Action = "suppressed"
)

// Actions lists every action.
func Actions() []Action { return []Action{Pass, Reject, Mutate, Withhold, Observe, Suppressed} }

// Blocking reports whether a changes or stops the exchange.
func (a Action) Blocking() bool { return a == Reject || a == Mutate || a == Withhold }

// Outcome is what a decision did and what active mode does with the same
// input: in passive mode Did is Pass and Would the action enforced.
type Outcome struct{ Did, Would Action }

// Enforced is the outcome of an action taken (active mode, or a condition
// enforced in both modes).
func Enforced(a Action) Outcome { return Outcome{a, a} }

// Observed is the outcome of a decision passive mode only records.
func Observed(would Action) Outcome { return Outcome{Pass, would} }
