package extproc

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"

	"github.com/mcpgate/mcpgate/audit"
)

// enforce applies d in active mode; in passive mode it returns a pass and
// records what active mode would have done. Either way one event is logged.
func (s *stream) enforce(ctx context.Context, d Decision, event string, attrs ...slog.Attr) Decision {
	return s.enforceEvent(ctx, d, s.nextEventID(), event, attrs...)
}

func (s *stream) enforceEvent(ctx context.Context, d Decision, eventID, event string, attrs ...slog.Attr) Decision {
	s.decide(ctx, s.outcome(actionOf(d)), eventID, audit.Event(event), attrs...)
	if s.policy.Mode != Active {
		return Decision{}
	}
	return d
}

// enforceAlways applies d in both modes, for conditions where passing would
// lose data or break the exchange.
func (s *stream) enforceAlways(ctx context.Context, d Decision, event string, attrs ...slog.Attr) Decision {
	s.decide(ctx, audit.Enforced(actionOf(d)), s.nextEventID(), audit.Event(event), attrs...)
	return d
}

func actionOf(d Decision) audit.Action {
	switch {
	case d.Reject != nil:
		return audit.Reject
	case d.Replace:
		return audit.Mutate
	default:
		return audit.Pass
	}
}

// nextEventID names a log event so a client-visible notice can point at it.
func (s *stream) nextEventID() string {
	s.events++
	return fmt.Sprintf("%s-%d", s.id, s.events)
}

type rpcError struct {
	Code    int               `json:"code"`
	Message string            `json:"message"`
	Data    map[string]string `json:"data,omitempty"`
}

type rpcErrorResponse struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Error   rpcError        `json:"error"`
}

// errorResponse builds a JSON-RPC error response; id is raw JSON, echoed
// byte for byte so large numeric ids survive.
func errorResponse(id string, code int, msg string, data map[string]string) []byte {
	b, err := json.Marshal(rpcErrorResponse{JSONRPC: "2.0", ID: rawID(id), Error: rpcError{code, msg, data}})
	if err != nil {
		// Only an invalid raw id can fail, and ids come from parsed JSON.
		panic(fmt.Sprintf("extproc: marshal JSON-RPC error: %v", err))
	}
	return b
}

// rejectAll answers every request in msgs with the same error: the HTTP
// status and body of the local reply (202 and no body if msgs holds only
// notifications, which get no answer).
func rejectAll(msgs []message, batch bool, code int, msg string, data map[string]string) (int, []byte) {
	var replies [][]byte
	for _, m := range msgs {
		if m.id != "" && m.method != "" {
			replies = append(replies, errorResponse(m.id, code, msg, data))
		}
	}
	if out := joinReplies(replies, batch); out != nil {
		return 200, out
	}
	return 202, nil
}

// rawID is a message id as raw JSON; a message without one (id "") is
// answered with null, since an empty RawMessage cannot be marshalled.
func rawID(id string) json.RawMessage {
	if id == "" {
		return json.RawMessage("null")
	}
	return json.RawMessage(id)
}

// resultResponse builds a JSON-RPC result response; id is raw JSON.
func resultResponse(id string, result json.RawMessage) []byte {
	return mustJSON(struct {
		JSONRPC string          `json:"jsonrpc"`
		ID      json.RawMessage `json:"id"`
		Result  json.RawMessage `json:"result"`
	}{"2.0", rawID(id), result})
}

// joinReplies renders replies as one message or, for a batch, an array.
func joinReplies(replies [][]byte, batch bool) []byte {
	if len(replies) == 0 {
		return nil
	}
	if !batch {
		return replies[0]
	}
	return append(append([]byte{'['}, bytes.Join(replies, []byte{','})...), ']')
}

// gunzip decodes a gzip body, refusing to inflate past limit bytes.
func gunzip(b []byte, limit int) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("gzip header: %w", err)
	}
	defer zr.Close()
	out, err := io.ReadAll(io.LimitReader(zr, int64(limit)+1))
	if err != nil {
		return nil, fmt.Errorf("gzip body: %w", err)
	}
	if len(out) > limit {
		return nil, fmt.Errorf("decoded body larger than %d bytes", limit)
	}
	return out, nil
}
