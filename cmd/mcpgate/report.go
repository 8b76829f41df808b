package main

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/mcpgate/mcpgate/extproc"
)

// report summarises an audit trail for an operator deciding whether to
// switch to active mode: what was found, where, and what active mode
// would have blocked.
func report(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("mcpgate report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	since := fs.Duration("since", 24*time.Hour, "only records this recent (0: all)")
	top := fs.Int("top", 10, "rows in each top list")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: mcpgate report [--since 24h] [--top 10] [--json] [FILE…|-]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	files := fs.Args()
	if len(files) == 0 {
		files = []string{"-"}
	}
	now := time.Now()
	var from time.Time
	if *since > 0 {
		from = now.Add(-*since)
	}
	agg := newAggregate(from, now)
	for _, name := range files {
		if err := agg.readFile(name, stdin); err != nil {
			fmt.Fprintf(stderr, "mcpgate report: %v\n", err)
			return 2
		}
	}
	r := agg.report(*top)
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(r); err != nil {
			fmt.Fprintf(stderr, "mcpgate report: %v\n", err)
			return 2
		}
		return 0
	}
	r.print(stdout, *since)
	return 0
}

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
	Event       string   `json:"event"`
	WouldAction string   `json:"would_action"`
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
func (b *BackendRow) score(r extproc.AuditRecord) {
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

type aggregate struct {
	from, now time.Time
	r         Report
	modes     map[string]bool
	blocks    map[[3]string]*BlockRow
	rules     map[string]*RuleRow
	ruleTools map[string]map[string]bool
	tools     map[[2]string]*ToolRow
	backends  map[string]*BackendRow
	streams   map[string]map[string]bool
	evidence  map[[4]string]*EvidenceRow
}

func newAggregate(from, now time.Time) *aggregate {
	return &aggregate{from: from, now: now, modes: map[string]bool{}, blocks: map[[3]string]*BlockRow{},
		rules: map[string]*RuleRow{}, ruleTools: map[string]map[string]bool{}, tools: map[[2]string]*ToolRow{},
		backends: map[string]*BackendRow{}, streams: map[string]map[string]bool{}, evidence: map[[4]string]*EvidenceRow{}}
}

func (a *aggregate) readFile(name string, stdin io.Reader) error {
	in := stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return fmt.Errorf("audit trail: %w", err)
		}
		defer f.Close()
		in = f
	}
	br := bufio.NewReaderSize(in, 64<<10)
	for {
		line, err := readLine(br) // scan.go: lines past maxScanLine are skipped
		if len(line) > 0 {
			a.line(bytes.TrimRight(line, "\r\n"))
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil && !errors.Is(err, errLineTooLong) {
			return fmt.Errorf("read %s: %w", name, err)
		}
		if err != nil {
			a.r.BadLines++
		}
	}
}

func (a *aggregate) line(b []byte) {
	if len(bytes.TrimSpace(b)) == 0 {
		return
	}
	var rec extproc.AuditRecord
	if err := json.Unmarshal(b, &rec); err != nil {
		a.r.BadLines++
		return
	}
	switch {
	case rec.EventID == "" || rec.Event == "":
		a.r.OtherLines++
		return
	case rec.Time.IsZero():
		a.r.BadLines++
		return
	case rec.Time.Before(a.from):
		a.r.Older++
		return
	}
	a.add(rec)
}

// blocking reports whether an action changes or stops the exchange.
func blocking(action string) bool {
	return action == "reject" || action == "mutate" || action == "withhold"
}

func (a *aggregate) add(r extproc.AuditRecord) {
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
	if r.Event == "score_changed" {
		b.score(r)
		return
	}
	if r.Event == "finding" {
		a.finding(r, b, a.tool(r.Backend, r.Tool))
		return
	}
	b.Decisions++
	tools := toolsOf(r)
	for _, name := range tools {
		a.tool(r.Backend, name).Decisions++
	}
	if strings.Contains(r.Event, "drift") || r.Event == "pin_changes" {
		b.Drift++
	}
	if !blocking(r.WouldAction) {
		return
	}
	b.WouldBlock++
	for _, name := range tools {
		a.tool(r.Backend, name).WouldBlock++
	}
	k := [3]string{r.Backend, r.Event, r.WouldAction}
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

// toolsOf names the tools a decision is about: its tool, or the lists
// some decisions carry in details.
func toolsOf(r extproc.AuditRecord) []string {
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

func (a *aggregate) tool(backend, tool string) *ToolRow {
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

func (a *aggregate) finding(r extproc.AuditRecord, b *BackendRow, t *ToolRow) {
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
	if r.Action == "suppressed" {
		rr.Suppressed++
		b.Suppressed++
		return
	}
	b.Findings[r.Severity]++
	if r.WouldAction == "withhold" {
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

// report sorts the aggregates into a Report with top-n lists.
func (a *aggregate) report(n int) Report {
	r := a.r
	for m := range a.modes {
		r.Modes = append(r.Modes, m)
	}
	slices.Sort(r.Modes)
	for _, b := range a.blocks {
		r.WouldBlock = append(r.WouldBlock, *b)
	}
	slices.SortFunc(r.WouldBlock, func(x, y BlockRow) int {
		return cmp.Or(y.Count-x.Count, strings.Compare(x.Backend, y.Backend), strings.Compare(x.Event, y.Event))
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

func (r Report) print(w io.Writer, since time.Duration) {
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
