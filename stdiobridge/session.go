package stdiobridge

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"time"
)

var (
	errSessionEnded = errors.New("session ended")
	errDuplicateID  = errors.New("a request with this id is already in flight in this session")
)

// session is one MCP session: one child process, the POSTs waiting for
// its responses and the GET stream for what it sends unasked.
type session struct {
	id    string // set when the initialize POST takes the session
	log   *slog.Logger
	child *child
	cfg   *Config

	mu         sync.Mutex
	pending    map[idKey]*exchange // request id → the POST that sent it
	inFlight   map[*exchange]struct{}
	standalone *mailbox // the GET stream, if open
	backlog    [][]byte // for the GET stream while none is open
	ended      bool
	lastUsed   time.Time // the last POST or GET
}

// exchange is one POST carrying requests, until all are answered.
type exchange struct {
	box       *mailbox
	sse       bool // the client accepts text/event-stream: other messages may ride along
	ids       []idKey
	rawIDs    []json.RawMessage
	progress  map[idKey]bool
	remaining int
	cancelled bool
}

// logTag is a digest of a session id for logs: the id itself lets anyone
// who holds it speak in the session (the same digest as the audit trail's).
func logTag(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:6])
}

// logger is the session's logger, with its log tag once it has an id.
func (s *session) logger() *slog.Logger {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.log
}

func newSession(cfg *Config, log *slog.Logger) (*session, error) {
	s := &session{cfg: cfg, log: log, pending: map[idKey]*exchange{}, inFlight: map[*exchange]struct{}{}}
	c, err := startChild(cfg, s.logger, s.fromChild)
	if err != nil {
		return nil, err
	}
	s.child = c
	return s, nil
}

// fromChild routes one stdout line (one message, or a batch whose
// elements are routed one by one).
func (s *session) fromChild(line []byte) {
	if bytes.IndexByte(line, '\r') >= 0 {
		// A CR between JSON tokens would end an SSE line: the one case
		// where bytes change (see the package doc).
		if l, err := oneLine(line); err == nil {
			line = l
		}
	}
	msgs, _, err := splitBody(line)
	if err != nil {
		s.logger().Warn("stdio server printed a line that is not JSON-RPC; dropped", "bytes", len(line), "error", err)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range msgs {
		if m.kind == kindResponse {
			s.answerLocked(m)
			continue
		}
		if box := s.routeLocked(m); box != nil {
			if box.put(m.raw) {
				continue
			}
			s.log.Warn("stream overflowed; it ends", "method", m.method)
		}
		s.queueLocked(m.raw)
	}
}

func (s *session) answerLocked(m message) {
	ex := s.pending[m.id]
	if ex == nil {
		s.log.Debug("response to no request in flight (cancelled, or its POST went away); dropped")
		return
	}
	delete(s.pending, m.id)
	ex.box.put(m.raw)
	if ex.remaining--; ex.remaining == 0 {
		ex.box.close()
		delete(s.inFlight, ex)
	}
}

// routeLocked picks the stream for a request or notification from the
// server; nil means the GET stream's backlog.
func (s *session) routeLocked(m message) *mailbox {
	var only *exchange
	n := 0
	for ex := range s.inFlight {
		if !ex.sse {
			continue
		}
		if m.progress != "" && ex.progress[m.progress] {
			return ex.box
		}
		only = ex
		n++
	}
	if n == 1 {
		return only.box
	}
	return s.standalone
}

func (s *session) queueLocked(raw []byte) {
	if s.standalone != nil && s.standalone.put(raw) {
		return
	}
	if len(s.backlog) >= s.cfg.Backlog {
		s.log.Warn("no GET stream open and the backlog is full: oldest server message dropped", "backlog", len(s.backlog))
		s.backlog = s.backlog[1:]
	}
	s.backlog = append(s.backlog, raw)
}

// post registers the requests among msgs (if any) and writes every
// message to the child in order. It returns the exchange to answer from,
// or nil when there was nothing to answer (202).
func (s *session) post(ctx context.Context, msgs []message, sse bool) (*exchange, error) {
	s.mu.Lock()
	if s.ended {
		s.mu.Unlock()
		return nil, errSessionEnded
	}
	s.lastUsed = time.Now()
	var ex *exchange
	for _, m := range msgs {
		switch {
		case m.kind == kindRequest:
			if ex == nil {
				ex = &exchange{box: newMailbox(s.cfg.Backlog), sse: sse, progress: map[idKey]bool{}}
			}
			if s.pending[m.id] != nil || slices.Contains(ex.ids, m.id) {
				s.mu.Unlock()
				return nil, errDuplicateID
			}
			ex.ids, ex.rawIDs = append(ex.ids, m.id), append(ex.rawIDs, m.rawID)
			if m.progress != "" {
				ex.progress[m.progress] = true
			}
		case m.cancels != "":
			// The server need not answer a cancelled request: end its POST.
			if c := s.pending[m.cancels]; c != nil {
				s.cancelLocked(c)
			}
		}
	}
	if ex != nil {
		for _, id := range ex.ids {
			s.pending[id] = ex
		}
		ex.remaining = len(ex.ids)
		s.inFlight[ex] = struct{}{}
	}
	s.mu.Unlock()
	for _, m := range msgs {
		if !s.child.send(m.raw, ctx.Done()) {
			if ex != nil {
				s.forget(ex)
			}
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, errSessionEnded
		}
	}
	return ex, nil
}

func (s *session) cancelLocked(ex *exchange) {
	for _, id := range ex.ids {
		if s.pending[id] == ex {
			delete(s.pending, id)
		}
	}
	delete(s.inFlight, ex)
	ex.cancelled = true
	ex.box.close()
}

// forget drops an exchange whose client went away: late responses are
// dropped, and server messages no longer go to it.
func (s *session) forget(ex *exchange) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range ex.ids {
		if s.pending[id] == ex {
			delete(s.pending, id)
		}
	}
	delete(s.inFlight, ex)
	ex.box.drain()
}

// done says whether every request of ex is answered.
func (s *session) done(ex *exchange) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return ex.remaining == 0
}

func (s *session) isCancelled(ex *exchange) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return ex.cancelled
}

// openStream makes box the GET stream, replacing an older one (a client
// reconnecting before the bridge noticed the old one gone), and hands it
// the backlog.
func (s *session) openStream(box *mailbox) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended {
		return errSessionEnded
	}
	if s.standalone != nil {
		s.backlog = append(s.standalone.drain(), s.backlog...)
	}
	s.standalone, s.lastUsed = box, time.Now()
	for len(s.backlog) > 0 && box.put(s.backlog[0]) {
		s.backlog = s.backlog[1:]
	}
	return nil
}

// closeStream ends the GET stream box; what it never sent goes back to
// the backlog for the next one.
func (s *session) closeStream(box *mailbox) {
	s.mu.Lock()
	defer s.mu.Unlock()
	left := box.drain()
	if s.standalone == box {
		s.standalone = nil
		s.backlog = append(left, s.backlog...)
	}
}

// idleSince says whether nothing uses the session now, and since when.
func (s *session) idleSince() (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastUsed, s.standalone == nil && len(s.inFlight) == 0
}

// end closes every stream of the session; it does not stop the child.
func (s *session) end() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ended = true
	for ex := range s.inFlight {
		ex.box.close()
	}
	clear(s.inFlight)
	clear(s.pending)
	if s.standalone != nil {
		s.standalone.close()
		s.standalone = nil
	}
}
