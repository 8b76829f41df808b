package extproc

import (
	"context"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"strconv"
	"sync"

	"github.com/tidwall/gjson"

	"github.com/mcpgate/mcpgate/detectors"
	"github.com/mcpgate/mcpgate/detectors/score"
)

// codeLowScore: a request to a backend whose MCP Score is below its
// min_score.
const codeLowScore = -32005

// scoreBoard keeps each backend's MCP Score, computed in-band from the
// initialize and complete tools/list results the gateway sees, exactly
// as `mcpgate audit` computes it from the same definitions (without the
// audit's prompt, resource and unknown-method checks, which need
// requests the gateway does not make). Scores are per process: a replica
// knows a backend's score once it has seen one of its tool lists.
type scoreBoard struct {
	scanner score.Scanner

	mu       sync.Mutex
	backends map[string]*backendScore
}

type backendScore struct {
	init   score.Surface // the initialize part: server, protocol, instructions
	tools  []score.Tool
	digest [32]byte // of the inputs the report was computed from
	report *score.Report
}

// newScoreBoard scores with the gateway's scanner, or, when content
// scanning is off, one of its own: the score stays on, honouring the
// rules the operator disabled.
func newScoreBoard(p Policy, sc contentScanner) (*scoreBoard, error) {
	if sc == nil {
		own, err := detectors.New(p.Detectors.options())
		if err != nil {
			return nil, fmt.Errorf("score: %w", err)
		}
		sc = own
	}
	return &scoreBoard{scanner: sc, backends: map[string]*backendScore{}}, nil
}

// Scores returns the current MCP Score of every backend the gateway has
// seen a complete tools/list of, by backend name. The map is a copy.
func (srv *Server) Scores() map[string]score.Report {
	return srv.scores.snapshot()
}

func (b *scoreBoard) snapshot() map[string]score.Report {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make(map[string]score.Report, len(b.backends))
	for name, bs := range b.backends {
		if bs.report != nil {
			out[name] = *bs.report
		}
	}
	return out
}

// current returns a backend's report, if it has one.
func (b *scoreBoard) current(backend string) (score.Report, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if bs := b.backends[backend]; bs != nil && bs.report != nil {
		return *bs.report, true
	}
	return score.Report{}, false
}

// update stores new inputs for a backend (init or tools, whichever is
// non-nil) and rescores it once tools are known. It returns the report
// and the previous score (-1 if none) when the score changed. Scoring
// runs outside the lock, so backends do not wait on each other.
func (b *scoreBoard) update(backend string, init *score.Surface, tools []score.Tool) (score.Report, int, bool) {
	b.mu.Lock()
	bs := b.backends[backend]
	if bs == nil {
		bs = &backendScore{}
		b.backends[backend] = bs
	}
	if init != nil {
		bs.init = *init
	}
	if tools != nil {
		bs.tools = tools
	}
	if bs.tools == nil { // nothing to grade before a tool list
		b.mu.Unlock()
		return score.Report{}, 0, false
	}
	d := digestOf(bs.init, bs.tools)
	if bs.report != nil && d == bs.digest {
		r := *bs.report
		b.mu.Unlock()
		return r, 0, false
	}
	s := bs.init
	s.Tools = bs.tools
	b.mu.Unlock()

	r := score.Score(b.scanner, s)

	b.mu.Lock()
	defer b.mu.Unlock()
	if bs.report != nil && d == bs.digest {
		return r, 0, false // another stream scored the same inputs meanwhile
	}
	prev := -1
	if bs.report != nil {
		prev = bs.report.Score
	}
	bs.digest, bs.report = d, &r
	return r, prev, prev != r.Score
}

func digestOf(init score.Surface, tools []score.Tool) [32]byte {
	h := sha256.New()
	for _, s := range []string{init.ServerName, init.ServerVersion, init.ProtocolVersion, init.Instructions} {
		h.Write([]byte(strconv.Itoa(len(s)) + ":" + s))
	}
	for _, t := range tools {
		h.Write([]byte(strconv.Itoa(len(t.Raw)) + ":"))
		h.Write(t.Raw)
	}
	var d [32]byte
	h.Sum(d[:0])
	return d
}

// minScore is the backend's min_score, else the top-level one; 0 is off.
func (s *stream) minScore() int {
	if s.rules.MinScore > 0 {
		return s.rules.MinScore
	}
	return s.policy.MinScore
}

// scoreInit records a backend's initialize result for its score.
func (s *stream) scoreInit(ctx context.Context, result gjson.Result) {
	if s.scores == nil {
		return
	}
	init := score.Surface{
		ServerName:      result.Get("serverInfo.name").String(),
		ServerVersion:   result.Get("serverInfo.version").String(),
		ProtocolVersion: result.Get("protocolVersion").String(),
		Instructions:    result.Get("instructions").String(),
	}
	if r, prev, changed := s.scores.update(s.backend, &init, nil); changed {
		s.logScore(ctx, r, prev)
	}
}

// scoreTools rescores the backend from a complete tools/list result
// (pages of a paginated list are not scored) and, in active mode, answers
// with the min_score error instead when the backend is below it. The
// request still reached the backend, so a fixed backend is rescored and
// unblocked by the next list.
func (s *stream) scoreTools(ctx context.Context, id string, result gjson.Result) ([]byte, bool) {
	if s.scores == nil || s.calls[id].paged || result.Get("nextCursor").Exists() {
		return nil, false
	}
	var tools []score.Tool
	for _, t := range result.Get("tools").Array() {
		if tl, err := score.ParseTool([]byte(t.Raw)); err == nil {
			tools = append(tools, tl)
		}
	}
	if tools == nil {
		tools = []score.Tool{}
	}
	r, prev, changed := s.scores.update(s.backend, nil, tools)
	if changed {
		s.logScore(ctx, r, prev)
	}
	if min := s.minScore(); min == 0 || r.Score >= min {
		return nil, false
	}
	if id == "" {
		id = "null"
	}
	d := s.lowScoreDecision(ctx, r, func(msg string, data map[string]string) (int, []byte) {
		return 200, errorResponse(id, codeLowScore, msg, data)
	})
	if d.Reject == nil {
		return nil, false
	}
	return d.Reject.Body, true
}

// refuseLowScore rejects every request to a backend whose known score is
// below min_score, except the ones a client needs to connect and learn
// why: initialize, ping, server/discover, notifications and responses,
// and tools/list, whose answer rescores the backend (scoreTools then
// withholds it).
func (s *stream) refuseLowScore(ctx context.Context, msgs []message, batch bool) (Decision, bool) {
	min := s.minScore()
	if s.scores == nil || min == 0 {
		return Decision{}, false
	}
	r, ok := s.scores.current(s.backend)
	if !ok || r.Score >= min {
		return Decision{}, false
	}
	blocked := false
	for _, m := range msgs {
		switch {
		case m.isResp || m.id == "":
		case m.method == "initialize", m.method == "ping", m.method == "server/discover", m.method == "tools/list":
		default:
			blocked = true
		}
	}
	if !blocked {
		return Decision{}, false
	}
	d := s.lowScoreDecision(ctx, r, func(msg string, data map[string]string) (int, []byte) {
		return rejectAll(msgs, batch, codeLowScore, msg, data)
	})
	return d, d.Reject != nil
}

// lowScoreDecision builds the rejection naming the score, grade and top
// finding, and logs it (passive mode: would_reject, and passes).
func (s *stream) lowScoreDecision(ctx context.Context, r score.Report, reply func(string, map[string]string) (int, []byte)) Decision {
	eventID := s.nextEventID()
	min := s.minScore()
	msg := fmt.Sprintf("mcpgate: backend %s has MCP Score %d (grade %s), below min_score %d", s.backend, r.Score, r.Grade, min)
	data := map[string]string{"policy": "min_score", "event_id": eventID, "score": strconv.Itoa(r.Score), "grade": string(r.Grade)}
	if top, ok := r.Top(); ok {
		msg += "; top finding: " + top.Check
		if top.Tool != "" {
			msg += " in " + top.Tool
		}
		msg += ": " + top.Why
		data["top_check"] = top.Check
	}
	status, body := reply(msg, data)
	return s.enforceEvent(ctx, Decision{Reject: &Reject{Status: status, Body: body, Details: "mcpgate_low_score"}},
		eventID, "score_below_minimum", slog.String("policy", "min_score"), slog.Int("score", r.Score),
		slog.String("grade", string(r.Grade)), slog.Int("min_score", min))
}

// logScore logs a backend's new score: a warning when it is below the
// backend's min_score.
func (s *stream) logScore(ctx context.Context, r score.Report, prev int) {
	level := slog.LevelInfo
	min := s.minScore()
	if min > 0 && r.Score < min {
		level = slog.LevelWarn
	}
	counts := map[string]int{}
	for _, f := range r.Findings {
		counts[f.Check]++
	}
	attrs := []slog.Attr{slog.String("event", "score_changed"), slog.Int("score", r.Score), slog.String("grade", string(r.Grade)),
		slog.Int("previous_score", prev), slog.Int("min_score", min), slog.Int("tools", r.Tools), slog.Any("findings", counts)}
	if top, ok := r.Top(); ok {
		attrs = append(attrs, slog.String("top_check", top.Check), slog.String("top_tool", truncate(top.Tool, 64)))
	}
	var caps []string
	for _, c := range r.Caps {
		caps = append(caps, c.Check)
	}
	if caps != nil {
		attrs = append(attrs, slog.Any("caps", caps))
	}
	s.log.LogAttrs(ctx, level, "mcpgate score", attrs...)
	// The audit trail gets it too: `mcpgate report` and the admin page read
	// scores from there, not from the operational log.
	s.logEvent(ctx, "observe", "", "score_changed", attrs[1:]...)
}
