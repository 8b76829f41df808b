package mcpclient

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
)

// maxWireMessage bounds what the recorder buffers of one response.
const maxWireMessage = 64 << 20

// wireRecorder is an http.RoundTripper that notes the ids of list
// requests and keeps the raw result of each matching response, JSON or
// SSE, while passing every byte through to the SDK unchanged.
type wireRecorder struct {
	next     http.RoundTripper
	deadline time.Time
	methods  map[string]bool // the requests whose results are kept

	mu      sync.Mutex
	pending map[jsonrpc.ID]bool
	results []json.RawMessage
}

func newRecorder(next http.RoundTripper, deadline time.Time, methods []string) *wireRecorder {
	w := &wireRecorder{next: next, deadline: deadline, methods: map[string]bool{}, pending: map[jsonrpc.ID]bool{}}
	for _, m := range methods {
		w.methods[m] = true
	}
	return w
}

func (w *wireRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	// The SDK sends some requests (a cancellation notice, the closing
	// DELETE) on contexts of its own with their own timeouts: the
	// deadline keeps the caller's timeout the bound on the whole run.
	ctx, cancel := context.WithDeadline(req.Context(), w.deadline)
	req = req.WithContext(ctx)
	if req.Method == http.MethodPost && req.Body != nil {
		body, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			cancel()
			return nil, err
		}
		if msg, err := jsonrpc.DecodeMessage(body); err == nil {
			if r, ok := msg.(*jsonrpc.Request); ok && w.methods[r.Method] && r.ID.IsValid() {
				w.mu.Lock()
				w.pending[r.ID] = true
				w.mu.Unlock()
			}
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
		req.ContentLength = int64(len(body))
	}
	resp, err := w.next.RoundTrip(req)
	if err != nil {
		cancel()
		return nil, err
	}
	// The legacy SSE transport answers on its GET stream.
	resp.Body = newTeeBody(resp.Body, w, cancel, isSSE(resp.Header.Get("Content-Type")),
		req.Method != http.MethodPost && req.Method != http.MethodGet)
	return resp, nil
}

// record keeps the result if data is the response to a list request.
func (w *wireRecorder) record(data []byte) {
	msg, err := jsonrpc.DecodeMessage(data)
	if err != nil {
		return
	}
	r, ok := msg.(*jsonrpc.Response)
	if !ok || r.Error != nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.pending[r.ID] {
		delete(w.pending, r.ID)
		w.results = append(w.results, r.Result)
	}
}

// take returns the oldest recorded result. A list call returns only after
// the SDK read the response through teeBody, so it has been recorded.
func (w *wireRecorder) take() (json.RawMessage, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.results) == 0 {
		return nil, false
	}
	r := w.results[0]
	w.results = w.results[1:]
	return r, true
}

// teeBody hands a response body to the SDK unchanged and parses a copy:
// one JSON-RPC message (or batch) for JSON, events for SSE.
type teeBody struct {
	io.ReadCloser
	w      *wireRecorder
	cancel context.CancelFunc // ends the request's deadline
	sse    *sseReader         // nil: a JSON body
	buf    []byte             // JSON: the body so far
	over   bool               // JSON: larger than maxWireMessage, not recorded
	done   bool
}

func newTeeBody(body io.ReadCloser, w *wireRecorder, cancel context.CancelFunc, sse, done bool) *teeBody {
	t := &teeBody{ReadCloser: body, w: w, cancel: cancel, done: done}
	if sse {
		t.sse = &sseReader{max: maxWireMessage, event: w.record}
	}
	return t
}

func (t *teeBody) Read(p []byte) (int, error) {
	n, err := t.ReadCloser.Read(p)
	if !t.done {
		t.feed(p[:n], err != nil)
	}
	return n, err
}

func (t *teeBody) Close() error {
	err := t.ReadCloser.Close()
	t.cancel()
	return err
}

func (t *teeBody) feed(chunk []byte, eof bool) {
	t.done = eof
	if t.sse != nil {
		t.sse.feed(chunk, eof)
		return
	}
	t.buf = append(t.buf, chunk...)
	if len(t.buf) > maxWireMessage {
		t.buf, t.over = t.buf[:0], true
	}
	if eof && !t.over {
		t.recordJSON(t.buf)
	}
}

func (t *teeBody) recordJSON(body []byte) {
	body = bytes.TrimSpace(body)
	if len(body) > 0 && body[0] == '[' {
		var batch []json.RawMessage
		if json.Unmarshal(body, &batch) == nil {
			for _, m := range batch {
				t.w.record(m)
			}
		}
		return
	}
	t.w.record(body)
}
