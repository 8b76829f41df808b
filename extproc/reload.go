package extproc

import (
	"errors"
	"fmt"
	"slices"

	"github.com/mcpgate/mcpgate/detectors"
	"github.com/mcpgate/mcpgate/detectors/score"
)

// snapshot is everything a stream reads from the policy, built and
// validated whole before it replaces the last good one. A stream takes one
// when it opens and reads nothing else of the policy, so a reload never
// changes an open stream's rules half-way.
type snapshot struct {
	policy  Policy // backend credentials loaded
	scanner contentScanner
	// scoring grades backends for the score board: the content scanner,
	// or, with content scanning off, one of its own that still honours
	// detectors.disabled_rules.
	scoring score.Scanner
	// pins and scores are the server's pin guard and score board as this
	// policy sees them: the shared state with this snapshot's lockfiles,
	// drift threshold and scanner. Reload swaps them with the policy.
	pins   *pinGuard   // nil: pinning off
	scores *scoreBoard // nil: not scoring
}

func newSnapshot(p Policy) (*snapshot, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	p, err := p.loadCredentials()
	if err != nil {
		return nil, err
	}
	sc, err := p.newScanner()
	if err != nil {
		return nil, err
	}
	snap := &snapshot{policy: p, scanner: sc, scoring: sc}
	if sc == nil {
		own, err := detectors.New(p.Detectors.options())
		if err != nil {
			return nil, fmt.Errorf("score: %w", err)
		}
		snap.scoring = own
	}
	return snap, nil
}

// MaxRecvMsgSize is the gRPC receive limit the server needs: a buffered
// body arrives in one message, with room for framing.
func (srv *Server) MaxRecvMsgSize() int { return 2*srv.bodyLimit + 64<<10 }

// Policy returns the policy new streams use.
func (srv *Server) Policy() Policy { return srv.cur.Load().policy }

// Reload makes p the policy of new streams; streams already open keep the
// one they started with. If p is invalid, a lockfile or credential cannot
// be read, or p changes what only a restart can (the pin store, the gRPC
// message limit), Reload returns an error and the last good policy stays.
func (srv *Server) Reload(p Policy) error {
	srv.reloading.Lock() // one reload at a time: each compares with the last
	defer srv.reloading.Unlock()
	if err := needsRestart(srv.cur.Load().policy, p, srv.bodyLimit); err != nil {
		return err
	}
	snap, err := newSnapshot(p)
	if err != nil {
		return err
	}
	if srv.pins != nil {
		cfg, err := loadPinConfig(snap.policy)
		if err != nil {
			return err
		}
		snap.pins = srv.pins.withConfig(cfg)
	}
	snap.scores = srv.scores.withScanner(snap.scoring)
	srv.cur.Store(snap)
	srv.warnExpired(snap.policy)
	return nil
}

// needsRestart reports the settings a reload cannot change: they were
// used to build the gRPC server and the pin store.
func needsRestart(old, p Policy, bodyLimit int) error {
	var errs []error
	if p.Pinning.Disabled != old.Pinning.Disabled {
		errs = append(errs, errors.New("pinning.disabled changed"))
	}
	if p.Pinning.Store != old.Pinning.Store {
		errs = append(errs, errors.New("pinning.store changed"))
	}
	if p.LargestBody() > bodyLimit {
		errs = append(errs, fmt.Errorf("max_body_bytes %d is over the %d the gRPC server was started with", p.LargestBody(), bodyLimit))
	}
	if len(errs) > 0 {
		return fmt.Errorf("restart mcpgate to apply: %w", errors.Join(errs...))
	}
	return nil
}

// WatchedFiles are the files a policy reads besides itself: a change to
// one is a reason to reload.
func (p Policy) WatchedFiles() []string {
	var files []string
	for _, b := range p.Backends {
		if b.Lockfile != "" {
			files = append(files, b.Lockfile)
		}
		if b.Auth != nil && b.Auth.BackendCredential != nil && b.Auth.BackendCredential.File != "" {
			files = append(files, b.Auth.BackendCredential.File)
		}
	}
	slices.Sort(files)
	return slices.Compact(files)
}
