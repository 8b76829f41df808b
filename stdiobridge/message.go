package stdiobridge

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"strconv"
)

// kind is what a JSON-RPC message is, from the fields it carries.
type kind int

const (
	kindInvalid      kind = iota
	kindRequest           // method and id
	kindNotification      // method, no id
	kindResponse          // result or error, and id
)

// message is one JSON-RPC message: its exact bytes and what routing needs.
type message struct {
	raw    []byte // as received, never re-encoded
	kind   kind
	method string
	id     idKey           // requests and responses
	rawID  json.RawMessage // the id's bytes, for error replies
	// progress is the request's _meta.progressToken, or the token a
	// notifications/progress names.
	progress idKey
	// cancels is the request id a notifications/cancelled names.
	cancels idKey
}

// idKey is a JSON-RPC id normalised for matching: a string and a number
// with the same text stay distinct ("s:1" and "n:1"), and numbers compare
// by value where they are integers (1 and 1.0 are the same id, as the Go
// SDK decodes them). The zero value means no id.
type idKey string

func makeIDKey(raw json.RawMessage) (idKey, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	switch raw[0] {
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", err
		}
		return idKey("s:" + s), nil
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		var n json.Number
		if err := json.Unmarshal(raw, &n); err != nil {
			return "", err
		}
		if i, err := strconv.ParseInt(n.String(), 10, 64); err == nil {
			return idKey("n:" + strconv.FormatInt(i, 10)), nil
		}
		if f, err := n.Float64(); err == nil && f == math.Trunc(f) && math.Abs(f) < 1<<63 {
			return idKey("n:" + strconv.FormatInt(int64(f), 10)), nil
		}
		return idKey("n:" + n.String()), nil
	}
	return "", errors.New("id must be a string or a number")
}

// envelope is the part of a message routing reads. Params stay raw:
// only progress and cancellation fields are looked at.
type envelope struct {
	ID     json.RawMessage `json:"id"`
	Method string          `json:"method"`
	Result json.RawMessage `json:"result"`
	Error  json.RawMessage `json:"error"`
	Params json.RawMessage `json:"params"`
}

type routingParams struct {
	ProgressToken json.RawMessage `json:"progressToken"` // notifications/progress
	RequestID     json.RawMessage `json:"requestId"`     // notifications/cancelled
	Meta          struct {
		ProgressToken json.RawMessage `json:"progressToken"`
	} `json:"_meta"`
}

// parseMessage classifies one message (not a batch). raw is kept as is.
func parseMessage(raw []byte) (message, error) {
	var env envelope
	if err := json.Unmarshal(raw, &env); err != nil {
		return message{}, err
	}
	m := message{raw: raw, method: env.Method, rawID: env.ID}
	id, err := makeIDKey(env.ID)
	if err != nil {
		return message{}, err
	}
	m.id = id
	switch {
	case env.Method != "" && id != "":
		m.kind = kindRequest
	case env.Method != "":
		m.kind = kindNotification
	case id != "" && (env.Result != nil || env.Error != nil):
		m.kind = kindResponse
	default:
		return message{}, errors.New("neither a request, a notification nor a response")
	}
	if len(env.Params) > 0 && env.Params[0] == '{' {
		var p routingParams
		if json.Unmarshal(env.Params, &p) == nil {
			switch {
			case m.kind == kindRequest:
				m.progress, _ = makeIDKey(p.Meta.ProgressToken)
			case env.Method == "notifications/progress":
				m.progress, _ = makeIDKey(p.ProgressToken)
			case env.Method == "notifications/cancelled":
				m.cancels, _ = makeIDKey(p.RequestID)
			}
		}
	}
	return m, nil
}

// splitBody turns a POST body or a stdout line into messages: one, or a
// batch's elements, each keeping its own bytes.
func splitBody(body []byte) ([]message, bool, error) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return nil, false, errors.New("empty message")
	}
	if body[0] != '[' {
		m, err := parseMessage(body)
		if err != nil {
			return nil, false, err
		}
		return []message{m}, false, nil
	}
	var elems []json.RawMessage
	if err := json.Unmarshal(body, &elems); err != nil {
		return nil, true, err
	}
	if len(elems) == 0 {
		return nil, true, errors.New("empty batch")
	}
	msgs := make([]message, 0, len(elems))
	for _, e := range elems {
		m, err := parseMessage(e)
		if err != nil {
			return nil, true, err
		}
		msgs = append(msgs, m)
	}
	return msgs, true, nil
}

// oneLine makes a message fit the stdio transport's framing: one line. A
// JSON text can hold a raw CR or LF only as whitespace between tokens
// (inside strings they must be escaped), so compacting removes exactly
// those and leaves every value's bytes alone. A message without them is
// returned unchanged.
func oneLine(raw []byte) ([]byte, error) {
	if bytes.IndexAny(raw, "\r\n") < 0 {
		return raw, nil
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
