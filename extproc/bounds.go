package extproc

// bounds.go owns the limits that keep every walk over a JSON body linear
// and shallow: the nesting depth check run before any recursive parser
// (gjson validation, ForEach) sees a request, a response or an SSE event's
// data, and the field paths built only when a finding names them.

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"

	"github.com/mcpgate/mcpgate/internal/jsondepth"
)

// DefaultMaxJSONDepth bounds how deeply a JSON-RPC body may nest. MCP
// traffic stays far below it: a message with a tools/list result reaches
// a tool's properties at depth 7 and each nested object schema adds 2, so
// 64 admits schemas nested some 28 objects deep.
const DefaultMaxJSONDepth = 64

// maxJSONDepthCeiling is the largest max_json_depth a policy may set, and
// the bound parseBody applies whatever the policy: the content walk costs
// the body's size times its depth, so the ceiling keeps it linear.
const maxJSONDepthCeiling = 256

var errTooDeep = fmt.Errorf("body nests deeper than %d levels", maxJSONDepthCeiling)

// maxDepth is the effective depth bound: 0 (a Policy built in code
// without DefaultPolicy) means the default.
func (p *Policy) maxDepth() int {
	if p.MaxJSONDepth == 0 {
		return DefaultMaxJSONDepth
	}
	return p.MaxJSONDepth
}

func validateDepth(key string, d int, zeroOK bool) error {
	if (d == 0 && zeroOK) || (d >= 1 && d <= maxJSONDepthCeiling) {
		return nil
	}
	return fmt.Errorf("%s %d: want 1-%d", key, d, maxJSONDepthCeiling)
}

// refuseTooDeep refuses a request nested past the policy's depth (HTTP
// 400, -32600) before anything parses it. In passive mode the request
// passes, logged, and still is not parsed: refused reports that the
// caller must stop either way.
func (s *stream) refuseTooDeep(ctx context.Context, body []byte) (Decision, bool) {
	limit := s.policy.maxDepth()
	if !jsondepth.Exceeds(body, limit) {
		return Decision{}, false
	}
	msg := fmt.Sprintf("mcpgate: request nests deeper than max_json_depth %d", limit)
	return s.enforce(ctx, Decision{Reject: &Reject{
		Status: 400, Body: errorResponse("null", codeInvalidRequest, msg, nil), Details: "mcpgate_too_deep",
	}}, "bad_request", slog.String("reason", "too_deep"), slog.Int("max_json_depth", limit)), true
}

// tooDeepMessage withholds a response message (a JSON body or one SSE
// event's data) nested past the policy's depth; done reports that the
// caller must not parse it, in passive mode too, where it passes logged.
func (s *stream) tooDeepMessage(ctx context.Context, raw []byte) (out []byte, changed, done bool) {
	limit := s.policy.maxDepth()
	if !jsondepth.Exceeds(raw, limit) {
		return nil, false, false
	}
	out, changed = s.withholdMessage(ctx, s.soleID(), "too_deep_response",
		fmt.Sprintf("mcpgate: response nests deeper than max_json_depth %d", limit))
	return out, changed, true
}

// fieldPath is the JSON path of a value being walked, as a chain of steps
// from the root. Walks make one step per element, and only a finding turns
// a chain into a string, so a walk costs the same whatever the length of
// the keys above it (building "a.b[3]" per element would copy every key
// once per descendant).
type fieldPath struct {
	up    *fieldPath
	key   string // an object member's key; "" for an array element
	index int    // an array element's index; -1 for an object member
}

func keyStep(up *fieldPath, key string) *fieldPath { return &fieldPath{up: up, key: key, index: -1} }
func indexStep(up *fieldPath, i int) *fieldPath    { return &fieldPath{up: up, index: i} }

// Field keys are attacker-chosen; a path names at most this many bytes of
// each (the audit record bounds the whole path again).
const maxFieldKey = 64

// String renders the path as "a.b[3].c"; nil is the root, "".
func (p *fieldPath) String() string {
	var steps []*fieldPath
	for q := p; q != nil; q = q.up {
		steps = append(steps, q)
	}
	var b strings.Builder
	for i := len(steps) - 1; i >= 0; i-- {
		q := steps[i]
		if q.index >= 0 {
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(q.index))
			b.WriteByte(']')
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(truncate(q.key, maxFieldKey))
	}
	return b.String()
}
