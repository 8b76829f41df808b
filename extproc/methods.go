package extproc

import (
	"context"
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"unicode"

	"github.com/tidwall/gjson"

	"github.com/mcpgate/mcpgate/detectors"
)

// The MCP method table: one row per method or message kind says what each
// part of it means to the gateway: how a request is judged, how its result
// is judged, and what replaces withheld text. The rest of the package
// (inspect.go, stream.go, score.go, drift.go) reads nothing else to decide
// per method. A message kind not in
// the table is scanned whole: every string value and every object key,
// _meta included.
//
// Adding a method means adding a row here and at most one handler.

// peer says who sends a method.
type peer int

const (
	fromClient peer = iota // a request or notification to the server
	fromServer             // a request or notification to the client
)

// methodInfo is one row of the table.
type methodInfo struct {
	from peer
	// nameParam is the params key naming what a request acts on, which
	// the Mcp-Name header must repeat (2026-07-28 streamable HTTP).
	nameParam string
	// allowlist: the named tool must be admitted by the backend's
	// allowed_tools.
	allowlist bool
	// pinned: a request naming a drifted entry of this list is refused.
	pinned *pinnedList
	// whileLowScore: allowed while the backend's MCP Score is below its
	// min_score, so a client can connect and learn why.
	whileLowScore bool
	// list judges the entries of a list result one by one (filtering
	// them); the rest of the result is then scanned whole like any other.
	list func(s *stream, ctx context.Context, r *reply) (out []byte, changed, withheld bool)
	// listKey names the array list judges, which the whole scan skips.
	listKey string
	// instructions: result.instructions is pinned (initialize,
	// server/discover) and the result feeds the backend's score.
	instructions bool
	// notice builds the result that replaces a withheld one; nil, or
	// false, answers with a JSON-RPC error carrying the notice instead.
	notice func(result gjson.Result, text string, findings []detectors.Finding) (json.RawMessage, bool)
	// replace builds the params that replace a server message's withheld
	// ones; nil replaces the message with a log notification of the notice.
	replace func(params gjson.Result, text string) json.RawMessage
}

var (
	toolsRow    = methodInfo{from: fromClient, whileLowScore: true, list: (*stream).judgeToolList, listKey: "tools"}
	unknownKind = methodInfo{} // scanned whole, withheld behind a JSON-RPC error
)

// methods is the table. Results of methods without a notice are withheld
// behind a JSON-RPC error, which clients show like a result.
var methods = map[string]methodInfo{
	// Lifecycle and utilities.
	"initialize":       {from: fromClient, whileLowScore: true, instructions: true, notice: instructionsNotice},
	"server/discover":  {from: fromClient, whileLowScore: true, instructions: true, notice: instructionsNotice},
	"ping":             {from: fromClient, whileLowScore: true},
	"logging/setLevel": {from: fromClient},

	// Tools.
	"tools/list": toolsRow,
	"tools/call": {from: fromClient, nameParam: "name", allowlist: true, pinned: &toolList, notice: toolNotice},

	// Prompts and resources.
	"prompts/list":   {from: fromClient, list: entryList("prompts", &promptList), listKey: "prompts"},
	"prompts/get":    {from: fromClient, nameParam: "name", pinned: &promptList, notice: promptNotice},
	"resources/list": {from: fromClient, list: entryList("resources", nil), listKey: "resources"},
	"resources/templates/list": {from: fromClient, list: entryList("resourceTemplates", &templateList),
		listKey: "resourceTemplates"},
	"resources/read":        {from: fromClient, nameParam: "uri", notice: resourceNotice},
	"resources/subscribe":   {from: fromClient},
	"resources/unsubscribe": {from: fromClient},
	"subscriptions/listen":  {from: fromClient},
	"completion/complete":   {from: fromClient, notice: completionNotice},

	// Tasks extension: tasks/result carries the real tool result.
	"tasks/get":    {from: fromClient},
	"tasks/list":   {from: fromClient},
	"tasks/result": {from: fromClient, notice: toolNotice},
	"tasks/cancel": {from: fromClient},

	// Server to client requests: their params reach the model or the user.
	"sampling/createMessage": {from: fromServer, replace: samplingParams},
	"elicitation/create":     {from: fromServer, replace: elicitationParams},
	"roots/list":             {from: fromServer},

	// Notifications. Client ones carry nothing policy reads; server ones
	// are scanned, and their text replaced when withheld.
	"notifications/initialized":            {from: fromClient},
	"notifications/cancelled":              {from: fromClient},
	"notifications/roots/list_changed":     {from: fromClient},
	"notifications/message":                {from: fromServer, replace: logParams},
	"notifications/progress":               {from: fromServer, replace: progressParams},
	"notifications/tools/list_changed":     {from: fromServer},
	"notifications/prompts/list_changed":   {from: fromServer},
	"notifications/resources/list_changed": {from: fromServer},
	"notifications/resources/updated":      {from: fromServer},
	"notifications/elicitation/complete":   {from: fromServer},
	"notifications/tasks/status":           {from: fromServer},
}

// lookupMethod returns the row of a method, and whether it has one.
func lookupMethod(method string) (methodInfo, bool) {
	info, ok := methods[method]
	return info, ok
}

// foldedMethods maps each known method folded by foldMethod to itself.
var foldedMethods = func() map[string]string {
	m := make(map[string]string, len(methods))
	for name := range methods {
		m[foldMethod(name)] = name
	}
	return m
}()

// foldMethod drops what a lenient reader might ignore in a method name:
// case, white space, control and format characters (NUL, zero-width).
func foldMethod(method string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return -1
		}
		return unicode.ToLower(r)
	}, method)
}

// nearMethod returns the known method that method differs from only by
// what foldMethod drops (Tools/Call, "tools/call ", "tools/call\u0000"):
// a backend that normalises names would run the known method under a name
// policy does not know.
func nearMethod(method string) (string, bool) {
	if _, ok := methods[method]; ok {
		return "", false
	}
	known, ok := foldedMethods[foldMethod(method)]
	return known, ok
}

func toolNotice(_ gjson.Result, text string, _ []detectors.Finding) (json.RawMessage, bool) {
	return mustJSON(map[string]any{"content": []any{textContent(text)}, "isError": true}), true
}

func promptNotice(_ gjson.Result, text string, _ []detectors.Finding) (json.RawMessage, bool) {
	return mustJSON(map[string]any{"messages": []any{map[string]any{"role": "user", "content": textContent(text)}}}), true
}

func resourceNotice(result gjson.Result, text string, _ []detectors.Finding) (json.RawMessage, bool) {
	uri := result.Get("contents.0.uri").String()
	return mustJSON(map[string]any{"contents": []any{map[string]any{"uri": uri, "mimeType": "text/plain", "text": text}}}), true
}

func completionNotice(gjson.Result, string, []detectors.Finding) (json.RawMessage, bool) {
	// A completion value is pasted into the user's input, so the notice is
	// not offered as one: the completion is empty.
	return mustJSON(map[string]any{"completion": map[string]any{"values": []string{}, "hasMore": false}}), true
}

// instructionsNotice replaces the instructions, keeping the rest of the
// result (protocol version, capabilities), when only they matched; a
// finding elsewhere withholds the whole result.
func instructionsNotice(result gjson.Result, text string, findings []detectors.Finding) (json.RawMessage, bool) {
	for _, f := range findings {
		if f.Field != "instructions" {
			return nil, false
		}
	}
	var r map[string]json.RawMessage
	if err := json.Unmarshal([]byte(result.Raw), &r); err != nil {
		return nil, false
	}
	r["instructions"] = mustJSON(text)
	return mustJSON(r), true
}

// samplingParams keeps only what the request needs to stay valid.
func samplingParams(params gjson.Result, text string) json.RawMessage {
	p := map[string]any{"messages": []any{map[string]any{"role": "user", "content": textContent(text)}}}
	if mt := params.Get("maxTokens"); mt.Type == gjson.Number {
		p["maxTokens"] = json.RawMessage(mt.Raw)
	} else {
		p["maxTokens"] = 1
	}
	return mustJSON(p)
}

func elicitationParams(_ gjson.Result, text string) json.RawMessage {
	return mustJSON(map[string]any{"mode": "form", "message": text,
		"requestedSchema": map[string]any{"type": "object", "properties": map[string]any{}}})
}

func logParams(params gjson.Result, text string) json.RawMessage {
	level := "warning"
	if l := params.Get("level"); l.Type == gjson.String && len(l.String()) < 16 {
		level = l.String()
	}
	return mustJSON(map[string]any{"level": level, "logger": "mcpgate", "data": text})
}

func progressParams(params gjson.Result, text string) json.RawMessage {
	p := map[string]any{"message": text}
	for _, k := range []string{"progressToken", "progress", "total"} {
		if v := params.Get(k); v.Type == gjson.Number || (k == "progressToken" && v.Type == gjson.String) {
			p[k] = json.RawMessage(v.Raw)
		}
	}
	return mustJSON(p)
}

// KnownMethods returns the methods the table has a row for, sorted; the
// metrics package keeps its label set equal to it (a test checks).
func KnownMethods() []string {
	return slices.Sorted(maps.Keys(methods))
}
