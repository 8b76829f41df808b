package score

import (
	"encoding/json"
	"errors"
	"fmt"
)

// Surface is what a server shows a model, plus what was observed of its
// protocol behaviour. Entries keep their JSON as listed, so the detectors
// see exactly the bytes a client would.
type Surface struct {
	ServerName      string
	ServerVersion   string
	ProtocolVersion string
	Instructions    string
	Tools           []Tool
	// Prompts, Resources and ResourceTemplates are the raw objects of the
	// server's list results; nil when the server does not offer them.
	Prompts           []json.RawMessage
	Resources         []json.RawMessage
	ResourceTemplates []json.RawMessage
	// HandshakeError is why connecting or initializing failed; when set
	// nothing else is known and the score is 0.
	HandshakeError string
	// UnknownMethod is the server's answer to a request for a method that
	// does not exist; nil when it was not probed.
	UnknownMethod *Probe
	// Behavior holds what calling tools showed (mcpgate audit
	// --behavioral); nil when no tool was called.
	Behavior *Behavior
}

// Probe is the answer to one protocol probe.
type Probe struct {
	// ErrorCode is the JSON-RPC error code returned; 0 with Result false
	// means no JSON-RPC answer at all.
	ErrorCode int
	// Result is true when the server answered with a result, not an error.
	Result bool
	// Detail describes an answer that was not JSON-RPC (an HTTP status).
	Detail string
}

// Behavior is what calling read-only tools with canary inputs showed.
type Behavior struct {
	// Called lists the tools that were called.
	Called []string
	// Exfiltrations are tools that sent a canary out: a request reached
	// the canary listener, or the canary came back inside an outbound URL.
	Exfiltrations []Exfiltration
	// Outputs are the text outputs of the calls, scanned like any tool
	// result.
	Outputs []Output
}

// Exfiltration is one confirmed leak of a canary.
type Exfiltration struct {
	Tool     string
	Evidence string // how it was seen, never the canary itself
}

// Output is the text a tool call returned.
type Output struct {
	Tool string
	Text string
}

// Tool is one tool definition from tools/list.
type Tool struct {
	Name         string
	Title        string
	Description  string
	InputSchema  json.RawMessage
	OutputSchema json.RawMessage
	Annotations  *Annotations
	// Raw is the definition as listed; the detectors scan it whole.
	Raw json.RawMessage
}

// Annotations are a tool's behaviour hints; nil fields were absent.
type Annotations struct {
	Title           string `json:"title"`
	ReadOnlyHint    *bool  `json:"readOnlyHint"`
	DestructiveHint *bool  `json:"destructiveHint"`
	IdempotentHint  *bool  `json:"idempotentHint"`
	OpenWorldHint   *bool  `json:"openWorldHint"`
}

// ParseTool decodes one tool object of a tools/list result.
func ParseTool(raw []byte) (Tool, error) {
	var t struct {
		Name         string          `json:"name"`
		Title        string          `json:"title"`
		Description  string          `json:"description"`
		InputSchema  json.RawMessage `json:"inputSchema"`
		OutputSchema json.RawMessage `json:"outputSchema"`
		Annotations  *Annotations    `json:"annotations"`
	}
	if err := json.Unmarshal(raw, &t); err != nil {
		return Tool{}, fmt.Errorf("score: tool definition: %w", err)
	}
	if t.Name == "" {
		return Tool{}, errors.New("score: tool definition has no name")
	}
	return Tool{Name: t.Name, Title: t.Title, Description: t.Description, InputSchema: t.InputSchema,
		OutputSchema: t.OutputSchema, Annotations: t.Annotations, Raw: append(json.RawMessage(nil), raw...)}, nil
}

// readOnly reports an explicit readOnlyHint of true.
func (t Tool) readOnly() bool {
	return t.Annotations != nil && t.Annotations.ReadOnlyHint != nil && *t.Annotations.ReadOnlyHint
}

// markedDestructive reports an explicit destructiveHint of true on a tool
// not claiming to be read-only.
func (t Tool) markedDestructive() bool {
	return t.Annotations != nil && t.Annotations.DestructiveHint != nil && *t.Annotations.DestructiveHint && !t.readOnly()
}

// openWorld reports an explicit openWorldHint of true: the tool reaches
// entities outside the server, such as the web.
func (t Tool) openWorld() bool {
	return t.Annotations != nil && t.Annotations.OpenWorldHint != nil && *t.Annotations.OpenWorldHint
}

// param is one top-level input parameter.
type param struct {
	name        string
	typ         string // "" when absent or a union
	description string
	format      string
	constrained bool // enum, const, pattern or format limit its values
}

// params returns the top-level properties of the input schema, in a stable
// order.
func (t Tool) params() []param {
	var s struct {
		Properties map[string]struct {
			Type        any    `json:"type"`
			Description string `json:"description"`
			Enum        []any  `json:"enum"`
			Const       any    `json:"const"`
			Pattern     string `json:"pattern"`
			Format      string `json:"format"`
		} `json:"properties"`
	}
	if len(t.InputSchema) == 0 || json.Unmarshal(t.InputSchema, &s) != nil {
		return nil
	}
	out := make([]param, 0, len(s.Properties))
	for name, p := range s.Properties {
		typ, _ := p.Type.(string)
		out = append(out, param{name: name, typ: typ, description: p.Description, format: p.Format,
			constrained: len(p.Enum) > 0 || p.Const != nil || p.Pattern != "" || p.Format != ""})
	}
	sortParams(out)
	return out
}
