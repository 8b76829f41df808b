package audit

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// Report is what `mcpgate report --json` prints.
type Report struct {
	From       time.Time     `json:"from"`
	To         time.Time     `json:"to"`
	Records    int           `json:"records"`
	BadLines   int           `json:"bad_lines"`   // not JSON, too long, or a record without time
	OtherLines int           `json:"other_lines"` // JSON but not an audit record (log lines)
	Older      int           `json:"older"`       // records before From
	Modes      []string      `json:"modes"`
	WouldBlock []BlockRow    `json:"would_block"`
	TopRules   []RuleRow     `json:"top_rules"`
	TopTools   []ToolRow     `json:"top_tools"`
	Backends   []BackendRow  `json:"backends"`
	Evidence   []EvidenceRow `json:"repeated_evidence"`
}

// BlockRow counts the decisions of one kind that active mode enforces.
type BlockRow struct {
	Backend     string   `json:"backend"`
	Event       Event    `json:"event"`
	WouldAction Action   `json:"would_action"`
	Count       int      `json:"count"`
	Enforced    int      `json:"enforced"` // already enforced (active mode)
	Tools       []string `json:"tools,omitempty"`
}

// RuleRow counts the findings of one detector rule.
type RuleRow struct {
	Rule        string `json:"rule"`
	Category    string `json:"category"`
	MaxSeverity string `json:"max_severity"`
	Findings    int    `json:"findings"`
	Withhold    int    `json:"would_withhold"`
	Suppressed  int    `json:"suppressed"`
	Tools       int    `json:"tools"`
}

// ToolRow counts what happened around one tool of a backend.
type ToolRow struct {
	Backend    string `json:"backend"`
	Tool       string `json:"tool"`
	Findings   int    `json:"findings"`
	Withhold   int    `json:"would_withhold"`
	Decisions  int    `json:"decisions"`
	WouldBlock int    `json:"would_block"`
}

// BackendRow summarises one backend.
type BackendRow struct {
	Backend    string         `json:"backend"`
	Streams    int            `json:"streams"`
	Decisions  int            `json:"decisions"`
	WouldBlock int            `json:"would_block"`
	Findings   map[string]int `json:"findings_by_severity"`
	Suppressed int            `json:"suppressed"`
	Drift      int            `json:"drift_events"`
	// Score and Grade are the latest in-band MCP Score (score_changed).
	Score   *int      `json:"score,omitempty"`
	Grade   string    `json:"grade,omitempty"`
	scoreAt time.Time // of the record Score came from
}

// score keeps the latest score_changed record's score, whatever order
// the files were read in.
func (b *BackendRow) score(r Record) {
	var n int
	var grade string
	if json.Unmarshal(r.Details["score"], &n) != nil || json.Unmarshal(r.Details["grade"], &grade) != nil {
		return
	}
	if b.Score == nil || !r.Time.Before(b.scoreAt) {
		b.Score, b.Grade, b.scoreAt = &n, grade, r.Time
	}
}

// EvidenceRow is one exact piece of evidence seen repeatedly: a
// suppression candidate, to be copied only after review.
type EvidenceRow struct {
	Backend  string `json:"backend"`
	Tool     string `json:"tool"`
	Rule     string `json:"rule"`
	Evidence string `json:"evidence"`
	Excerpt  string `json:"excerpt"`
	Count    int    `json:"count"`
}

type blockKey struct {
	backend string
	event   Event
	would   Action
}

// Aggregate counts records into a Report: what was found, where, and
// what active mode blocks.
type Aggregate struct {
	from, now time.Time
	r         Report
	modes     map[string]bool
	blocks    map[blockKey]*BlockRow
	rules     map[string]*RuleRow
	ruleTools map[string]map[string]bool
	tools     map[[2]string]*ToolRow
	backends  map[string]*BackendRow
	streams   map[string]map[string]bool
	evidence  map[[4]string]*EvidenceRow
}

// NewAggregate counts the records from from on; now ends the window.
func NewAggregate(from, now time.Time) *Aggregate {
	return &Aggregate{from: from, now: now, modes: map[string]bool{}, blocks: map[blockKey]*BlockRow{},
		rules: map[string]*RuleRow{}, ruleTools: map[string]map[string]bool{}, tools: map[[2]string]*ToolRow{},
		backends: map[string]*BackendRow{}, streams: map[string]map[string]bool{}, evidence: map[[4]string]*EvidenceRow{}}
}

// BadLine counts a line that could not be read (too long).
func (a *Aggregate) BadLine() { a.r.BadLines++ }

// Line adds one line of a trail: a record, or a counted bad or other line.
func (a *Aggregate) Line(b []byte) {
	if len(bytes.TrimSpace(b)) == 0 {
		return
	}
	var rec Record
	if err := json.Unmarshal(b, &rec); err != nil { // lenient: older trails may hold more keys
		a.r.BadLines++
		return
	}
	switch {
	case !rec.IsRecord():
		a.r.OtherLines++
		return
	case rec.Time.IsZero():
		a.r.BadLines++
		return
	case rec.Time.Before(a.from):
		a.r.Older++
		return
	}
	a.Add(rec)
}

func (a *Aggregate) Add(r Record) {
	a.r.Records++
	if a.r.From.IsZero() || r.Time.Before(a.r.From) {
		a.r.From = r.Time
	}
	if r.Time.After(a.r.To) {
		a.r.To = r.Time
	}
	a.modes[string(r.Mode)] = true
	b := a.backends[r.Backend]
	if b == nil {
		b = &BackendRow{Backend: r.Backend, Findings: map[string]int{}}
		a.backends[r.Backend] = b
		a.streams[r.Backend] = map[string]bool{}
	}
	a.streams[r.Backend][r.Stream] = true
	if r.Event == ScoreChanged {
		b.score(r)
		return
	}
	if r.Event == Finding {
		a.finding(r, b, a.tool(r.Backend, r.Tool))
		return
	}
	b.Decisions++
	tools := r.Tools()
	for _, name := range tools {
		a.tool(r.Backend, name).Decisions++
	}
	if r.Event.IsDrift() {
		b.Drift++
	}
	if !r.WouldAction.Blocking() {
		return
	}
	b.WouldBlock++
	for _, name := range tools {
		a.tool(r.Backend, name).WouldBlock++
	}
	k := blockKey{r.Backend, r.Event, r.WouldAction}
	row := a.blocks[k]
	if row == nil {
		row = &BlockRow{Backend: r.Backend, Event: r.Event, WouldAction: r.WouldAction}
		a.blocks[k] = row
	}
	row.Count++
	if r.Action == r.WouldAction {
		row.Enforced++
	}
	for _, tool := range tools {
		if !slices.Contains(row.Tools, tool) && len(row.Tools) < 10 {
			row.Tools = append(row.Tools, tool)
		}
	}
}

// Tools names the tools a decision is about: its tool, or the lists
// some decisions carry in details.
func (r Record) Tools() []string {
	if r.Tool != "" {
		return []string{r.Tool}
	}
	var out []string
	for _, key := range []string{"tools", "poisoned_tools", "drifted_tools", "drifted"} {
		var names []string
		if json.Unmarshal(r.Details[key], &names) == nil {
			for _, n := range names {
				if n != "" && !slices.Contains(out, n) {
					out = append(out, n)
				}
			}
		}
	}
	return out
}

func (a *Aggregate) tool(backend, tool string) *ToolRow {
	if tool == "" {
		return nil
	}
	k := [2]string{backend, tool}
	t := a.tools[k]
	if t == nil {
		t = &ToolRow{Backend: backend, Tool: tool}
		a.tools[k] = t
	}
	return t
}

func (a *Aggregate) finding(r Record, b *BackendRow, t *ToolRow) {
	rr := a.rules[r.Rule]
	if rr == nil {
		rr = &RuleRow{Rule: r.Rule, Category: r.Category}
		a.rules[r.Rule] = rr
		a.ruleTools[r.Rule] = map[string]bool{}
	}
	rr.Findings++
	if severityRank(r.Severity) > severityRank(rr.MaxSeverity) {
		rr.MaxSeverity = r.Severity
	}
	a.ruleTools[r.Rule][r.Backend+"\x00"+r.Tool] = true
	if t != nil {
		t.Findings++
	}
	if r.Action == Suppressed {
		rr.Suppressed++
		b.Suppressed++
		return
	}
	b.Findings[r.Severity]++
	if r.WouldAction == Withhold {
		rr.Withhold++
		if t != nil {
			t.Withhold++
		}
	}
	if r.Evidence != "" {
		k := [4]string{r.Backend, r.Tool, r.Rule, r.Evidence}
		e := a.evidence[k]
		if e == nil {
			e = &EvidenceRow{Backend: r.Backend, Tool: r.Tool, Rule: r.Rule, Evidence: r.Evidence, Excerpt: r.Excerpt}
			a.evidence[k] = e
		}
		e.Count++
	}
}

func severityRank(s string) int {
	return slices.Index([]string{"low", "medium", "high"}, s) + 1
}

// Report sorts the aggregates into a Report with top-n lists.
func (a *Aggregate) Report(n int) Report {
	r := a.r
	for m := range a.modes {
		r.Modes = append(r.Modes, m)
	}
	slices.Sort(r.Modes)
	for _, b := range a.blocks {
		r.WouldBlock = append(r.WouldBlock, *b)
	}
	slices.SortFunc(r.WouldBlock, func(x, y BlockRow) int {
		return cmp.Or(y.Count-x.Count, strings.Compare(x.Backend, y.Backend), strings.Compare(string(x.Event), string(y.Event)))
	})
	for name, rr := range a.rules {
		rr.Tools = len(a.ruleTools[name])
		r.TopRules = append(r.TopRules, *rr)
	}
	slices.SortFunc(r.TopRules, func(x, y RuleRow) int {
		return cmp.Or(y.Withhold-x.Withhold, y.Findings-x.Findings, strings.Compare(x.Rule, y.Rule))
	})
	for _, t := range a.tools {
		r.TopTools = append(r.TopTools, *t)
	}
	slices.SortFunc(r.TopTools, func(x, y ToolRow) int {
		return cmp.Or(y.WouldBlock+y.Withhold-x.WouldBlock-x.Withhold, y.Findings-x.Findings,
			strings.Compare(x.Backend, y.Backend), strings.Compare(x.Tool, y.Tool))
	})
	for name, b := range a.backends {
		b.Streams = len(a.streams[name])
		r.Backends = append(r.Backends, *b)
	}
	slices.SortFunc(r.Backends, func(x, y BackendRow) int { return strings.Compare(x.Backend, y.Backend) })
	for _, e := range a.evidence {
		if e.Count > 1 {
			r.Evidence = append(r.Evidence, *e)
		}
	}
	slices.SortFunc(r.Evidence, func(x, y EvidenceRow) int {
		return cmp.Or(y.Count-x.Count, strings.Compare(x.Evidence, y.Evidence))
	})
	r.TopRules = r.TopRules[:min(n, len(r.TopRules))]
	r.TopTools = r.TopTools[:min(n, len(r.TopTools))]
	r.Evidence = r.Evidence[:min(n, len(r.Evidence))]
	return r
}

// Print renders r as text tables; since names the window.
func (r Report) Print(w io.Writer, since time.Duration) {
	window := "all records"
	if since > 0 {
		window = "last " + since.String()
	}
	fmt.Fprintf(w, "mcpgate audit report (%s): %d records", window, r.Records)
	if r.Records > 0 {
		fmt.Fprintf(w, " from %s to %s, mode %s", r.From.UTC().Format(time.RFC3339), r.To.UTC().Format(time.RFC3339), strings.Join(r.Modes, "+"))
	}
	fmt.Fprintf(w, "\nskipped: %d bad lines, %d non-audit lines, %d older records\n", r.BadLines, r.OtherLines, r.Older)

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	section := func(title, header string) {
		tw.Flush()
		fmt.Fprintf(w, "\n%s\n", title)
		fmt.Fprintln(tw, header)
	}
	section("What active mode blocks or changes", "BACKEND\tEVENT\tACTION\tCOUNT\tENFORCED\tTOOLS")
	for _, b := range r.WouldBlock {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%s\n", b.Backend, b.Event, b.WouldAction, b.Count, b.Enforced, strings.Join(b.Tools, ","))
	}
	if len(r.WouldBlock) == 0 {
		fmt.Fprintln(tw, "(nothing)")
	}
	section("Top rules", "RULE\tCATEGORY\tMAX SEVERITY\tFINDINGS\tWOULD WITHHOLD\tSUPPRESSED\tTOOLS")
	for _, x := range r.TopRules {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\t%d\n", x.Rule, x.Category, x.MaxSeverity, x.Findings, x.Withhold, x.Suppressed, x.Tools)
	}
	section("Top tools", "BACKEND\tTOOL\tFINDINGS\tWOULD WITHHOLD\tDECISIONS\tWOULD BLOCK")
	for _, x := range r.TopTools {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\n", x.Backend, x.Tool, x.Findings, x.Withhold, x.Decisions, x.WouldBlock)
	}
	section("Backends", "BACKEND\tSCORE\tSTREAMS\tDECISIONS\tWOULD BLOCK\tFINDINGS high/medium/low\tSUPPRESSED\tDRIFT")
	for _, x := range r.Backends {
		score := "-"
		if x.Score != nil {
			score = fmt.Sprintf("%d %s", *x.Score, x.Grade)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d/%d/%d\t%d\t%d\n", x.Backend, score, x.Streams, x.Decisions, x.WouldBlock,
			x.Findings["high"], x.Findings["medium"], x.Findings["low"], x.Suppressed, x.Drift)
	}
	if len(r.Evidence) > 0 {
		section("Repeated evidence (suppression candidates: review before copying)", "BACKEND\tTOOL\tRULE\tEVIDENCE\tCOUNT\tEXCERPT")
		for _, x := range r.Evidence {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\n", x.Backend, x.Tool, x.Rule, x.Evidence, x.Count, x.Excerpt)
		}
	}
	tw.Flush()
}
