package stdiobridge

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os/exec"
	"sync"
	"time"
)

// Config says what to run and the bridge's limits. Zero values take the
// defaults given.
type Config struct {
	// Command is the stdio server and its arguments (required).
	Command []string
	// Env is the child's environment; nil inherits this process's.
	Env []string
	// Dir is the child's working directory; empty is this process's.
	Dir string
	// Path is the endpoint's path (default /mcp); others get 404.
	Path string
	// AllowedHosts are Host header values (host or host:port) accepted
	// besides loopback ones; "*" accepts any. Requests naming another
	// host, or an Origin on another host, get 403: a web page reaching the
	// gateway through DNS rebinding must not drive a local server.
	AllowedHosts []string
	// Logger receives the child's stderr and the bridge's own events.
	Logger *slog.Logger
	// StderrPrefix starts each logged stderr line (default "[stdio] ").
	StderrPrefix string
	// MaxSessions bounds live sessions, so children (default 16). At the
	// limit a new session replaces the longest idle one (no GET stream, no
	// request in flight); with none idle it is refused (429).
	MaxSessions int
	// MaxMessageBytes bounds a POST body and a stdout line (default 64 MiB).
	MaxMessageBytes int
	// Backlog bounds messages queued for one stream (default 1024).
	Backlog int
	// StopGrace is how long a child gets after stdin closes, and again
	// after SIGTERM, before the next step (default 2s).
	StopGrace time.Duration
}

// ExitError is a child that exited without the bridge asking, which ends
// the bridge.
type ExitError struct {
	Status int // the exit status, 128+n for signal n
	Err    error
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return "stdio server exited with status 0"
	}
	return fmt.Sprintf("stdio server exited: %v", e.Err)
}

// Bridge serves one stdio command as a Streamable HTTP MCP endpoint.
type Bridge struct {
	cfg  Config
	log  *slog.Logger
	exit chan *ExitError // the first crash; capacity 1

	mu       sync.Mutex
	sessions map[string]*session
	spare    *session // started ahead for the next initialize
	closing  bool
	wg       sync.WaitGroup // child watchers
}

// New checks cfg and finds the command; nothing runs until Serve.
func New(cfg Config) (*Bridge, error) {
	if len(cfg.Command) == 0 || cfg.Command[0] == "" {
		return nil, errors.New("stdio bridge: no command")
	}
	if _, err := exec.LookPath(cfg.Command[0]); err != nil {
		return nil, fmt.Errorf("stdio server: %w", err)
	}
	if cfg.Path == "" {
		cfg.Path = "/mcp"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.StderrPrefix == "" {
		cfg.StderrPrefix = "[stdio] "
	}
	if cfg.MaxSessions <= 0 {
		cfg.MaxSessions = 16
	}
	if cfg.MaxMessageBytes <= 0 {
		cfg.MaxMessageBytes = 64 << 20
	}
	if cfg.Backlog <= 0 {
		cfg.Backlog = 1024
	}
	if cfg.StopGrace <= 0 {
		cfg.StopGrace = 2 * time.Second
	}
	return &Bridge{cfg: cfg, log: cfg.Logger.With("component", "stdiobridge"),
		exit: make(chan *ExitError, 1), sessions: map[string]*session{}}, nil
}

// Serve starts the first child and serves l until ctx ends (nil) or a
// child exits by itself (an *ExitError). Either way every child is
// stopped before it returns.
func (b *Bridge) Serve(ctx context.Context, l net.Listener) error {
	if err := b.prepareSpare(); err != nil {
		l.Close()
		return err
	}
	srv := &http.Server{Handler: b, ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: slog.NewLogLogger(b.log.Handler(), slog.LevelWarn)}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	var err error
	select {
	case <-ctx.Done():
	case e := <-b.exit:
		err = e
	case e := <-served:
		err = fmt.Errorf("stdio bridge: %w", e)
	}
	b.shutdown()
	sctx, cancel := context.WithTimeout(context.Background(), b.cfg.StopGrace)
	defer cancel()
	_ = srv.Shutdown(sctx)
	b.wg.Wait()
	return err
}

// prepareSpare starts a child for the next session, so the first
// client does not wait for a slow start (npx) and a command that fails at
// once ends the bridge before any client comes.
func (b *Bridge) prepareSpare() error {
	s, err := b.startSession()
	if err != nil {
		return err
	}
	b.mu.Lock()
	b.spare = s
	b.mu.Unlock()
	return nil
}

func (b *Bridge) startSession() (*session, error) {
	s, err := newSession(&b.cfg, b.log)
	if err != nil {
		return nil, err
	}
	b.wg.Add(1)
	go b.watch(s)
	return s, nil
}

// watch waits for a session's child to exit, ends the session, and ends
// the bridge if nobody asked the child to exit.
func (b *Bridge) watch(s *session) {
	defer b.wg.Done()
	<-s.child.exited
	s.end()
	b.mu.Lock()
	if s.id != "" && b.sessions[s.id] == s {
		delete(b.sessions, s.id)
	}
	if b.spare == s {
		b.spare = nil
	}
	closing := b.closing
	b.mu.Unlock()
	if closing || !s.child.crashed() {
		return
	}
	status := s.child.status()
	s.logger().Error("stdio server exited by itself: the gateway stops", "status", status, "error", s.child.err)
	select {
	case b.exit <- &ExitError{Status: status, Err: s.child.err}:
	default:
	}
}

// take gives the initialize POST a session: the spare child, else a new
// one, under a fresh id.
func (b *Bridge) take() (*session, error) {
	b.mu.Lock()
	if b.closing {
		b.mu.Unlock()
		return nil, errSessionEnded
	}
	if len(b.sessions) >= b.cfg.MaxSessions {
		old := b.idlestLocked()
		if old == nil {
			b.mu.Unlock()
			return nil, errTooMany
		}
		delete(b.sessions, old.id)
		old.end()
		old.logger().Info("stdio session evicted: the session limit is reached and it was the longest idle", "max_sessions", b.cfg.MaxSessions)
		go old.child.stop(b.cfg.StopGrace)
	}
	s := b.spare
	b.spare = nil
	b.mu.Unlock()
	if s == nil {
		var err error
		if s, err = b.startSession(); err != nil {
			return nil, err
		}
	}
	var raw [16]byte
	_, _ = rand.Read(raw[:]) // never fails (crypto/rand)
	id := hex.EncodeToString(raw[:])
	s.mu.Lock()
	s.id = id
	s.log = s.log.With("session", logTag(id))
	s.lastUsed = time.Now()
	s.mu.Unlock()
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closing {
		// shutdown did not see this child: stop it here, or Serve waits
		// for it forever.
		go s.child.stop(b.cfg.StopGrace)
		return nil, errSessionEnded
	}
	b.sessions[id] = s
	s.logger().Info("stdio session started", "pid", s.child.cmd.Process.Pid)
	return s, nil
}

var errTooMany = errors.New("too many sessions")

// idlestLocked is the session unused longest among those with no GET
// stream open and nothing in flight, or nil. A client that went away
// without DELETE leaves such a session; a live client keeps its GET
// stream open or returns with requests, and a client whose session was
// evicted gets 404 and starts a new one, as the transport requires.
func (b *Bridge) idlestLocked() *session {
	var idlest *session
	var since time.Time
	for _, s := range b.sessions {
		if last, idle := s.idleSince(); idle && (idlest == nil || last.Before(since)) {
			idlest, since = s, last
		}
	}
	return idlest
}

func (b *Bridge) lookup(id string) *session {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.sessions[id]
}

// endSession stops one session's child at the client's request.
func (b *Bridge) endSession(s *session) {
	b.mu.Lock()
	delete(b.sessions, s.id)
	b.mu.Unlock()
	s.end()
	s.logger().Info("stdio session ended by the client")
	go s.child.stop(b.cfg.StopGrace)
}

// shutdown ends every session and stops every child, in parallel.
func (b *Bridge) shutdown() {
	b.mu.Lock()
	b.closing = true
	all := make([]*session, 0, len(b.sessions)+1)
	for _, s := range b.sessions {
		all = append(all, s)
	}
	if b.spare != nil {
		all = append(all, b.spare)
	}
	b.mu.Unlock()
	var wg sync.WaitGroup
	for _, s := range all {
		s.end()
		wg.Go(func() { s.child.stop(b.cfg.StopGrace) })
	}
	wg.Wait()
}
