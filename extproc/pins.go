package extproc

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"sync"

	"github.com/mcpgate/mcpgate/detectors"
	"github.com/mcpgate/mcpgate/pinning"
)

// maxGatheredEntries bounds a paginated list gathered for pinning; a longer
// one is compared page by page only.
const maxGatheredEntries = 10000

// maxPinnedSessions bounds the per-session first lists kept for in-session
// drift checks; past it the oldest-seen entry is dropped (a long-idle
// session then compares against the backend pin only).
const maxPinnedSessions = 4096

// pinnedList is one kind of list a server offers the model.
type pinnedList struct {
	key    string   // store and session key prefix
	drift  string   // names the list in the drift table
	fields []string // model-visible fields; nil: a tool's
}

var (
	toolList     = pinnedList{key: "backend:"}
	promptList   = pinnedList{key: "prompts:", drift: "prompt:", fields: pinning.PromptFields}
	templateList = pinnedList{key: "templates:", drift: "template:", fields: pinning.ResourceTemplateFields}
)

// pinGuard compares the tools backends show the model with their pins: a
// reviewed lockfile per backend when configured, else the first list seen
// (trust on first use) in a store shared by every replica. It remembers
// which tools drifted so that calls to them can be refused.
//
// Each policy snapshot has its own pinGuard: the state every stream shares
// (store, drift, sessions) with that snapshot's lockfiles and threshold, so
// an open stream keeps the pins it started with across a reload.
type pinGuard struct {
	*pinState
	cfg *pinConfig
}

// pinState is what the pin guards of every snapshot share.
type pinState struct {
	store pinning.Store

	mu       sync.Mutex
	drifted  map[string]map[string][]pinning.Change // backend + list → name → changes at or above threshold
	sessions map[string]pinning.Set                 // backend + session → first complete list
	order    []string                               // session keys, oldest first
	pages    map[string][][]byte                    // backend + session → pages gathered so far
}

// pinConfig is the part of the pin guard that a policy reload replaces.
type pinConfig struct {
	lockfiles map[string]pinning.Lockfile // by backend
	threshold detectors.Severity
}

func loadPinConfig(p Policy) (*pinConfig, error) {
	c := &pinConfig{lockfiles: map[string]pinning.Lockfile{}, threshold: p.Pinning.DriftSeverity}
	for name, b := range p.Backends {
		if b.Lockfile == "" {
			continue
		}
		lf, err := pinning.ReadLockfile(b.Lockfile)
		if err != nil {
			return nil, fmt.Errorf("backends.%s.lockfile: %w", name, err)
		}
		c.lockfiles[name] = lf
	}
	return c, nil
}

func newPinGuard(ctx context.Context, p Policy) (*pinGuard, error) {
	if p.Pinning.Disabled {
		return nil, nil
	}
	cfg, err := loadPinConfig(p)
	if err != nil {
		return nil, err
	}
	g := &pinGuard{cfg: cfg, pinState: &pinState{
		drifted:  map[string]map[string][]pinning.Change{},
		sessions: map[string]pinning.Set{},
		pages:    map[string][][]byte{},
	}}
	url := p.Pinning.Store
	if url == "" {
		dir, err := defaultPinDir()
		if err != nil {
			return nil, err
		}
		url = dir
	}
	st, err := pinning.OpenStore(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("pinning.store: %w", err)
	}
	g.store = st
	return g, nil
}

// defaultPinDir is where TOFU pins live without a configured store: the
// XDG state directory, so they survive restarts.
func defaultPinDir() (string, error) {
	if d := os.Getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "mcpgate", "pins"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("pinning.store not set and no home directory: %w", err)
	}
	return filepath.Join(home, ".local", "state", "mcpgate", "pins"), nil
}

// withConfig returns the guard sharing g's state with another policy's
// lockfiles and threshold; nil stays nil (pinning off).
func (g *pinGuard) withConfig(cfg *pinConfig) *pinGuard {
	if g == nil {
		return nil
	}
	return &pinGuard{pinState: g.pinState, cfg: cfg}
}

func (g *pinGuard) Close() error {
	if g == nil || g.store == nil {
		return nil
	}
	return g.store.Close()
}

// check compares a list (tools, prompts or resource templates) with the
// backend's pin and the session's first list. complete is false for one
// page of a paginated list, which can show added and changed entries but
// not removed ones, and is never pinned. It returns every change and the
// entries that drifted.
func (g *pinGuard) check(ctx context.Context, list pinnedList, backend, session string, items [][]byte, complete bool) ([]pinning.Change, map[string]bool, error) {
	var set pinning.Set
	var err error
	if list.fields == nil {
		set, err = pinning.NewSet(items, nil)
	} else {
		set, err = pinning.NewEntrySet(items, list.fields)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("fingerprint %s: %w", list.key, err)
	}
	baseline, have := g.lockfilePins(backend, list)
	key := list.key + backend
	switch {
	case have:
	case complete:
		baseline, _, err = g.store.Pin(ctx, key, set)
		have = true
	default:
		baseline, have, err = g.store.Get(ctx, key)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("pin store: %w", err)
	}
	var changes []pinning.Change
	if have {
		changes = diff(baseline, set, complete)
	}
	if session != "" && complete {
		changes = mergeChanges(changes, g.sessionChanges(key+"\x00"+session, set))
	}
	drifted := map[string]bool{}
	byName := map[string][]pinning.Change{}
	for _, c := range changes {
		if c.Severity >= g.cfg.threshold && c.Kind != pinning.ToolRemoved {
			drifted[c.Tool] = true
			byName[c.Tool] = append(byName[c.Tool], c)
		}
	}
	dk := backend + "\x00" + list.drift
	g.mu.Lock()
	defer g.mu.Unlock()
	if complete || g.drifted[dk] == nil { // the whole list is known: it replaces old drift
		g.drifted[dk] = byName
	} else {
		maps.Copy(g.drifted[dk], byName)
	}
	return changes, drifted, nil
}

func diff(baseline, set pinning.Set, complete bool) []pinning.Change {
	if complete {
		return pinning.Diff(baseline, set)
	}
	var changes []pinning.Change
	for _, t := range set.Tools {
		if b, ok := baseline.Tool(t.Name); ok {
			changes = append(changes, pinning.DiffTool(b, t)...)
		} else {
			changes = append(changes, pinning.Change{Kind: pinning.ToolAdded, Tool: t.Name, Severity: detectors.Low, Detail: "not in the pin"})
		}
	}
	return changes
}

// sessionChanges compares set with the first complete list of the session,
// remembering it when it is the first.
func (g *pinGuard) sessionChanges(key string, set pinning.Set) []pinning.Change {
	g.mu.Lock()
	defer g.mu.Unlock()
	first, ok := g.sessions[key]
	if ok {
		return pinning.Diff(first, set)
	}
	if len(g.order) >= maxPinnedSessions {
		delete(g.sessions, g.order[0])
		g.order = g.order[1:]
	}
	g.sessions[key] = set
	g.order = append(g.order, key)
	return nil
}

// mergeChanges appends the changes of b not already in a.
func mergeChanges(a, b []pinning.Change) []pinning.Change {
	seen := map[[2]string]bool{}
	for _, c := range a {
		seen[[2]string{c.Tool, string(c.Kind)}] = true
	}
	for _, c := range b {
		if !seen[[2]string{c.Tool, string(c.Kind)}] {
			a = append(a, c)
		}
	}
	return a
}

// drifted returns the changes that make a request for the named entry of
// list refused, if any.
func (g *pinGuard) driftedEntry(list pinnedList, backend, name string) []pinning.Change {
	if g == nil {
		return nil
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.drifted[backend+"\x00"+list.drift][name]
}

// checkInstructions compares a server's initialize instructions with the
// lockfile's, or with the first ones seen (trust on first use): new
// instructions steer the model as much as a new tool description does.
func (g *pinGuard) checkInstructions(ctx context.Context, backend, instructions string) ([]pinning.Change, error) {
	cur := pinning.Set{Instructions: &instructions}
	baseline := g.cfg.lockfiles[backend].Set
	if baseline.Instructions == nil {
		var err error
		baseline, _, err = g.store.Pin(ctx, "instructions:"+backend, cur)
		if err != nil {
			return nil, fmt.Errorf("pin store: %w", err)
		}
	}
	var out []pinning.Change
	for _, c := range pinning.Diff(pinning.Set{Instructions: baseline.Instructions}, cur) {
		if c.Kind == pinning.InstructionsChanged {
			out = append(out, c)
		}
	}
	return out, nil
}

// gatherPage adds one page of a paginated list to the session's gathering
// and returns the whole list when last completes it. A first page restarts
// the gathering. Without a session there is nothing to tie pages together.
func (g *pinGuard) gatherPage(list pinnedList, backend, session string, items [][]byte, first, last bool) [][]byte {
	if session == "" {
		return nil
	}
	key := list.key + backend + "\x00" + session
	g.mu.Lock()
	defer g.mu.Unlock()
	if first {
		if len(g.pages) >= maxPinnedSessions {
			clear(g.pages) // abandoned gatherings: start over rather than grow
		}
		g.pages[key] = nil
	}
	gathered, ok := g.pages[key]
	if !ok { // a later page without its first: nothing to complete
		return nil
	}
	gathered = append(gathered, items...)
	if len(gathered) > maxGatheredEntries {
		delete(g.pages, key)
		return nil
	}
	if !last {
		g.pages[key] = gathered
		return nil
	}
	delete(g.pages, key)
	return gathered
}

// lockfilePins returns the backend's reviewed pin for a list, if any.
func (g *pinGuard) lockfilePins(backend string, list pinnedList) (pinning.Set, bool) {
	lf, ok := g.cfg.lockfiles[backend]
	if !ok {
		return pinning.Set{}, false
	}
	var s *pinning.Set
	switch list.key {
	case toolList.key:
		return lf.Set, true
	case promptList.key:
		s = lf.Prompts
	case templateList.key:
		s = lf.ResourceTemplates
	}
	if s == nil {
		return pinning.Set{}, false // not in the lockfile: trust on first use
	}
	return *s, true
}
