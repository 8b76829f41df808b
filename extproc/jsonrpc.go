package extproc

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/tidwall/gjson"

	"github.com/mcpgate/mcpgate/internal/jsondepth"
)

// Stable JSON-RPC error codes returned by the gateway. Clients and log
// searches may depend on them, so they never change meaning.
const (
	codeParseError     = -32700 // body is not JSON or not UTF-8
	codeInvalidRequest = -32600 // JSON but not an acceptable JSON-RPC message
	codePolicyDenied   = -32001 // a policy refused the request
	codeUninspectable  = -32003 // a response the gateway cannot inspect, withheld in active mode
)

// message is what the gateway keeps of one JSON-RPC message: enough to apply
// policy and to correlate a response with its request.
type message struct {
	method string
	id     string // raw JSON of the id ("" for a notification)
	name   string // the params value its row names (tools/call name, resources/read uri), for Mcp-Name
	tool   string // params.name of tools/call and prompts/get (never a URI, which may carry a secret into logs)
	paged  bool   // a list request with params.cursor: a later page
	isResp bool   // carries result or error
	params gjson.Result
	result gjson.Result // of a response
	err    gjson.Result // of an error response
}

// envelopeKeys are the keys whose value decides policy. A duplicate or a
// case variant of one of them would let the gateway (which reads the first)
// and the backend (which may read the last, or match case-insensitively)
// disagree about what is being called, so such messages are refused.
var envelopeKeys = []string{"jsonrpc", "method", "id", "params", "result", "error"}

// paramKeys are the params keys policy reads besides the row's nameParam.
var paramKeys = []string{"arguments", "inputResponses", "requestState"}

// errMethodAndResponse: an object with a method is a request or a
// notification whatever else it carries, and SDK servers execute it as one
// (go-sdk and the Python SDK ignore a result or error next to a method).
// Judging it as a response would let it past the allowlist, so it is
// refused as malformed.
var errMethodAndResponse = errors.New("message has both a method and a result or error")

var (
	errInvalidUTF8 = errors.New("body is not valid UTF-8")
	errInvalidJSON = errors.New("body is not valid JSON")
)

// parseBody reads a JSON-RPC body: one message or a batch (array).
// An error means the body must not be trusted; its text is safe to return
// to the client (it never quotes the body).
func parseBody(body []byte) (msgs []message, batch bool, err error) {
	if !utf8.Valid(body) {
		return nil, false, errInvalidUTF8
	}
	if jsondepth.Exceeds(body, maxJSONDepthCeiling) { // before any recursive parse (bounds.go)
		return nil, false, errTooDeep
	}
	if !gjson.ValidBytes(body) {
		return nil, false, errInvalidJSON
	}
	root := parseJSON(body)
	switch {
	case root.IsObject():
		m, err := parseMessage(root)
		if err != nil {
			return nil, false, err
		}
		return []message{m}, false, nil
	case root.IsArray():
		var perr error
		root.ForEach(func(_, v gjson.Result) bool {
			m, err := parseMessage(v)
			if err != nil {
				perr = fmt.Errorf("batch element %d: %w", len(msgs), err)
				return false
			}
			msgs = append(msgs, m)
			return true
		})
		if perr != nil {
			return nil, true, perr
		}
		if len(msgs) == 0 {
			return nil, true, errors.New("empty batch")
		}
		return msgs, true, nil
	default:
		return nil, false, errors.New("body is neither a JSON-RPC object nor a batch")
	}
}

func parseMessage(v gjson.Result) (message, error) {
	if !v.IsObject() {
		return message{}, errors.New("message is not an object")
	}
	var m message
	var params gjson.Result
	seen := make([]string, 0, 4)
	var err error
	v.ForEach(func(k, val gjson.Result) bool {
		key := k.String()
		if err = checkKey(seen, key, envelopeKeys); err != nil {
			return false
		}
		seen = append(seen, key)
		switch key {
		case "method":
			if val.Type != gjson.String {
				err = errors.New("method is not a string")
				return false
			}
			m.method = val.String()
		case "id":
			if val.Type != gjson.String && val.Type != gjson.Number && val.Type != gjson.Null {
				err = errors.New("id is not a string, number or null")
				return false
			}
			m.id = val.Raw
		case "params":
			params = val
		case "result":
			m.isResp, m.result = true, val
		case "error":
			m.isResp, m.err = true, val
		}
		return true
	})
	if err != nil {
		return message{}, err
	}
	if m.method != "" && m.isResp {
		return message{}, errMethodAndResponse
	}
	m.params = params
	if strings.HasSuffix(m.method, "/list") && params.IsObject() && params.Get("cursor").Exists() {
		m.paged = true
	}
	if params.IsObject() {
		info, _ := lookupMethod(m.method)
		watched := paramKeys
		if info.nameParam != "" {
			watched = append([]string{info.nameParam}, paramKeys...)
		}
		seen = seen[:0]
		params.ForEach(func(k, val gjson.Result) bool {
			key := k.String()
			if err = checkKey(seen, key, watched); err != nil {
				return false
			}
			seen = append(seen, key)
			if info.nameParam != "" && key == info.nameParam && val.Type == gjson.String {
				m.name = val.String()
				if key == "name" {
					m.tool = m.name
				}
			}
			return true
		})
		if err != nil {
			return message{}, fmt.Errorf("params: %w", err)
		}
	}
	return m, nil
}

// checkKey refuses key if it is a watched key (or a case variant of one)
// that was already seen in the same object, or a case variant of a watched
// key that is not itself watched.
func checkKey(seen []string, key string, watched []string) error {
	for _, w := range watched {
		if !strings.EqualFold(key, w) {
			continue
		}
		if key != w {
			return fmt.Errorf("key %q is a case variant of %q", key, w)
		}
		for _, s := range seen {
			if s == key {
				return fmt.Errorf("duplicate key %q", key)
			}
		}
	}
	return nil
}
