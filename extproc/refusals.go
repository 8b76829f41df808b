package extproc

// refusals.go owns the delivery of a refused legacy HTTP+SSE message POST
// on the session's SSE stream, where a legacy client reads every answer.
//
// A legacy server answers each message POST 202 and sends the JSON-RPC
// response on the GET stream; a client treats any other status as a
// failed send (the Go SDK closes the session, the TS SDK reports a
// transport error, the Python SDK waits for an answer that never comes).
// So the gateway does not answer a refused POST itself: it forwards a
// stand-in request under the same id, a ping, which the backend
// acknowledges 202 and answers on the stream. The POST's stream records
// the refusal here, keyed by the session id of the message URL and the
// JSON-RPC id; the GET stream of that session, which learnt the session
// id from the endpoint event, replaces the backend's answer with the
// gateway's error.
//
// The stand-in is a ping because it is the one request every server
// accepts and answers without side effects: a method no server has would
// be answered "Method not found" by the TS and Python SDKs, but the Go
// SDK's SSE handler refuses an unknown method on the POST itself (400),
// which fails the client's send as the gateway's own 403 did. The price:
// when the record is missing (the POST's ext_proc stream and the GET's
// went to different mcpgate replicas) the client gets the ping's empty
// result for its request instead of the gateway's error. The denied
// request never reaches the backend either way. A restart loses no
// record that matters: it also ends the GET's ext_proc stream, and with
// it the client's session.

import (
	"bytes"
	"container/list"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/tidwall/gjson"
)

// standInMethod is the method of the stand-in request (see above).
const standInMethod = "ping"

// Bounds of the refusal records: a record outlives its delivery only when
// the backend never answers the stand-in, so a few minutes and a few
// thousand entries are ample, and the table stays small under a flood.
// The error names the requested tool, as long as the client made it, so
// the bytes are bounded too: a larger error is not recorded (the POST
// gets the 403) and the oldest records make room for new ones.
const (
	refusalTTL        = 5 * time.Minute
	maxRefusalRecords = 4096
	maxRefusalBody    = 16 << 10
	maxRefusalBytes   = 4 << 20
)

// refusalBook holds the refusals waiting for delivery, shared by every
// stream of a Server. It is safe for concurrent use; nil records nothing.
type refusalBook struct {
	mu       sync.Mutex
	ttl      time.Duration
	max      int // records
	maxBytes int // of their bodies together
	bytes    int
	now      func() time.Time
	byKey    map[refusalKey]*list.Element
	byAge    *list.List // of *refusal, oldest first; TTL is fixed, so also by expiry
}

// refusalKey names one request of one legacy session. The session id is
// the raw query value: the table is in memory only and never logged.
type refusalKey struct {
	session string
	id      idKey
}

type refusal struct {
	key     refusalKey
	body    []byte // the gateway's JSON-RPC error response to deliver
	expires time.Time
}

func newRefusalBook() *refusalBook {
	return &refusalBook{ttl: refusalTTL, max: maxRefusalRecords, maxBytes: maxRefusalBytes, now: time.Now,
		byKey: map[refusalKey]*list.Element{}, byAge: list.New()}
}

// record keeps body to deliver for the request rawID of session, and
// reports whether it did.
func (b *refusalBook) record(session, rawID string, body []byte) bool {
	if b == nil || session == "" || len(body) > maxRefusalBody || len(body) > b.maxBytes {
		return false
	}
	key, _ := idKeys(rawID)
	k := refusalKey{session, key}
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	b.expire(now)
	if el, ok := b.byKey[k]; ok {
		b.remove(el)
	}
	for b.byAge.Len() >= b.max || b.bytes+len(body) > b.maxBytes {
		b.remove(b.byAge.Front())
	}
	b.byKey[k] = b.byAge.PushBack(&refusal{key: k, body: body, expires: now.Add(b.ttl)})
	b.bytes += len(body)
	return true
}

// take removes and returns the refusal a response with rawID answers in
// session. The backend may respell the id it was sent (1.0 as 1), so any
// key an SDK pairs with the response's id finds the record.
func (b *refusalBook) take(session, rawID string) ([]byte, bool) {
	if b == nil || session == "" {
		return nil, false
	}
	exact, aliases := idKeys(rawID)
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.byKey) == 0 {
		return nil, false
	}
	b.expire(b.now())
	for _, k := range append([]idKey{exact}, aliases...) {
		if el, ok := b.byKey[refusalKey{session, k}]; ok {
			r := el.Value.(*refusal)
			b.remove(el)
			return r.body, true
		}
	}
	return nil, false
}

func (b *refusalBook) expire(now time.Time) {
	for el := b.byAge.Front(); el != nil && !now.Before(el.Value.(*refusal).expires); el = b.byAge.Front() {
		b.remove(el)
	}
}

func (b *refusalBook) remove(el *list.Element) {
	r := el.Value.(*refusal)
	delete(b.byKey, r.key)
	b.bytes -= len(r.body)
	b.byAge.Remove(el)
}

func (b *refusalBook) len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.byKey)
}

// legacySessionOf returns the session id a legacy message URL names
// (every SDK's server puts it in the query: TS sessionId, Go sessionid,
// Python session_id),
// or "" if it names none or names several, which servers read differently.
func legacySessionOf(rawQuery string) string {
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return ""
	}
	session := ""
	for k, vs := range q {
		switch strings.ToLower(k) {
		case "sessionid", "session_id":
			for _, v := range vs {
				if session != "" && v != session {
					return ""
				}
				session = v
			}
		}
	}
	return session
}

// standIn turns the gateway's refusal of a legacy message POST into a
// stand-in forwarded in its place, recording the refusal for the SSE
// stream. A body the stand-in cannot carry is left to the caller: a batch
// (servers disagree on accepting batches, and the SDKs no longer send
// them), or a refusal that is not a single JSON-RPC error response.
//
// Without a session (none, or two in the URL), a book to record in or
// room in it, no stream could deliver the refusal, and the stand-in's
// answer would reach the client in its place: the caller fails the send
// instead.
func (s *stream) standIn(reject *Reject) (Decision, bool) {
	if s.refusals == nil || s.legacySession == "" {
		return Decision{}, false
	}
	body := bytes.TrimSpace(reject.Body)
	if len(body) == 0 || body[0] != '{' || !gjson.ValidBytes(body) {
		return Decision{}, false
	}
	id := gjson.GetBytes(body, "id")
	if !id.Exists() || id.Type == gjson.Null || !gjson.GetBytes(body, "error").IsObject() {
		return Decision{}, false
	}
	if !s.refusals.record(s.legacySession, id.Raw, reject.Body) {
		return Decision{}, false
	}
	out := []byte(`{"jsonrpc":"2.0","id":` + id.Raw + `,"method":"` + standInMethod + `"}`)
	return Decision{Replace: true, Body: out, ContentLength: true}, true
}

// deliverRefusal replaces the backend's answer to a stand-in with the
// gateway's error, on the GET stream of a legacy session. Any answer is
// replaced, not only the expected error: whatever the backend says for
// that id, the client's request was refused.
func (s *stream) deliverRefusal(rawID string) ([]byte, bool) {
	if !s.get || s.legacySession == "" || rawID == "" {
		return nil, false
	}
	body, ok := s.refusals.take(s.legacySession, rawID)
	if ok {
		s.log.Debug("refusal delivered on the SSE stream")
	}
	return body, ok
}
