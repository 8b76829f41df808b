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

	"github.com/tidwall/gjson"

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

// walkStrings calls visit with every string value in raw, a JSON value
// that has been validated, unescaped as a client decodes it, and the path
// to it below root. The values of object members whose key skip reports
// are passed over. It reads raw once, left to right, with an explicit
// stack: a recursive walk over gjson results re-reads each level's bytes
// once per level above it, which costs the size times the depth.
func walkStrings(raw string, root *fieldPath, skip func(key string) bool, visit func(path *fieldPath, text string)) {
	type frame struct {
		path  *fieldPath
		obj   bool
		index int
	}
	var stack []frame
	var key string   // the member key just read, in an object
	haveKey := false // key holds a key whose value comes next
	valuePath := func() *fieldPath {
		if len(stack) == 0 {
			return root
		}
		top := &stack[len(stack)-1]
		if top.obj {
			return keyStep(top.path, key)
		}
		return indexStep(top.path, top.index)
	}
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch c {
		case ' ', '\t', '\n', '\r', ':':
			continue
		case ',':
			if n := len(stack); n > 0 && !stack[n-1].obj {
				stack[n-1].index++
			}
			continue
		case '}', ']':
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
			continue
		}
		inObj := len(stack) > 0 && stack[len(stack)-1].obj
		if inObj && !haveKey {
			// c opens the member's key.
			j := stringEndString(raw, i+1)
			key, haveKey = unquote(raw[i:j+1]), true
			i = j
			if skip(key) {
				i = valueEnd(raw, i+1) - 1
				haveKey = false
			}
			continue
		}
		path := valuePath()
		haveKey = false
		switch c {
		case '{', '[':
			stack = append(stack, frame{path: path, obj: c == '{'})
		case '"':
			j := stringEndString(raw, i+1)
			visit(path, unquote(raw[i:j+1]))
			i = j
		default: // a number, true, false or null
			for i+1 < len(raw) && strings.IndexByte(",}] \t\n\r", raw[i+1]) < 0 {
				i++
			}
		}
	}
}

// stringEndString is jsondepth's string scan for a string: the index of
// the quote closing a string whose contents start at i.
func stringEndString(s string, i int) int {
	for ; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			return i
		}
	}
	return len(s) - 1
}

// valueEnd returns the index just past the value that starts at or after
// i (white space and the colon skipped), in one pass.
func valueEnd(s string, i int) int {
	for i < len(s) && strings.IndexByte(" \t\n\r:", s[i]) >= 0 {
		i++
	}
	depth := 0
	for ; i < len(s); i++ {
		switch s[i] {
		case '"':
			i = stringEndString(s, i+1)
			if depth == 0 {
				return i + 1
			}
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 {
				return i // the enclosing container's end, not the value's
			}
			depth--
			if depth == 0 {
				return i + 1
			}
		case ',':
			if depth == 0 {
				return i
			}
		default:
			if depth == 0 && strings.IndexByte(" \t\n\r", s[i]) >= 0 {
				return i
			}
		}
	}
	return len(s)
}

// unquote decodes a JSON string token as gjson (and a client) does; a
// token without escapes is its own contents, no copy made.
func unquote(tok string) string {
	if len(tok) < 2 {
		return ""
	}
	if strings.IndexByte(tok, '\\') < 0 {
		return tok[1 : len(tok)-1]
	}
	return gjson.Parse(tok).String()
}
