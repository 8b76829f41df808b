package score

import (
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/mcpgate/mcpgate/detectors"
)

// Grade is a letter grade of a score.
type Grade string

// Grades and their lowest scores.
const (
	A Grade = "A" // 90 and up
	B Grade = "B" // 80 and up
	C Grade = "C" // 70 and up
	D Grade = "D" // 55 and up
	F Grade = "F"
)

// GradeOf returns the grade of a score.
func GradeOf(score int) Grade {
	switch {
	case score >= 90:
		return A
	case score >= 80:
		return B
	case score >= 70:
		return C
	case score >= 55:
		return D
	}
	return F
}

// Finding is one problem the score counts.
type Finding struct {
	Check    string             `json:"check"`
	OWASP    string             `json:"owasp"`
	Tool     string             `json:"tool,omitempty"` // the tool, prompt or resource, quoted when odd
	Severity detectors.Severity `json:"severity"`
	Why      string             `json:"why"`
	Fix      string             `json:"fix"`
	Evidence string             `json:"evidence,omitempty"` // redacted: detector excerpts, names, never secrets
	Points   int                `json:"points"`             // deducted, after the check's maximum
}

// Cap is a ceiling a finding put on the score.
type Cap struct {
	Check    string `json:"check"`
	MaxScore int    `json:"max_score"`
	Reason   string `json:"reason"`
}

// Report is a server's MCP Score.
type Report struct {
	Score    int       `json:"score"`
	Grade    Grade     `json:"grade"`
	Findings []Finding `json:"findings"`
	Caps     []Cap     `json:"caps,omitempty"`
	// Deducted is the sum of the findings' points, before caps.
	Deducted        int    `json:"deducted"`
	Server          string `json:"server,omitempty"`
	ProtocolVersion string `json:"protocol_version,omitempty"`
	Tools           int    `json:"tools"`
	Prompts         int    `json:"prompts"`
	Resources       int    `json:"resources"`
	Templates       int    `json:"resource_templates"`
	TokenEstimate   int    `json:"token_estimate"`
	// Exercised lists the tools the behavioral checks called; nil when
	// they did not run.
	Exercised []string `json:"exercised,omitempty"`
}

// Top returns the finding that cost the most points (the first one on a
// tie, in report order), and false when there is none.
func (r Report) Top() (Finding, bool) {
	if len(r.Findings) == 0 {
		return Finding{}, false
	}
	return r.Findings[0], true
}

// Scanner is what scoring needs of the detectors.
type Scanner interface {
	Scan(text string) []detectors.Finding
	ScanTool(def []byte) ([]detectors.Finding, error)
}

// Score grades a surface. sc is usually a *detectors.Scanner built with
// default options.
func Score(sc Scanner, s Surface) Report {
	r := Report{Server: strings.TrimSpace(s.ServerName + " " + s.ServerVersion), ProtocolVersion: s.ProtocolVersion,
		Tools: len(s.Tools), Prompts: len(s.Prompts), Resources: len(s.Resources), Templates: len(s.ResourceTemplates)}
	var fs []Finding
	if s.HandshakeError != "" {
		fs = append(fs, newFinding(CheckHandshake, "", "", truncate(s.HandshakeError, 300)))
	} else {
		fs = append(fs, contentFindings(sc, s)...)
		views := make([]*toolView, len(s.Tools))
		for i, t := range s.Tools {
			views[i] = viewOf(t)
			fs = append(fs, toolFindings(views[i])...)
		}
		fs = append(fs, trifecta(views)...)
		var size int
		size, r.TokenEstimate = surfaceCost(s)
		fs = append(fs, sizeFindings(size, len(s.Tools), r.TokenEstimate)...)
		fs = append(fs, protocolFindings(s)...)
		fs = append(fs, behaviorFindings(sc, s.Behavior)...)
		if s.Behavior != nil {
			r.Exercised = append([]string{}, s.Behavior.Called...)
		}
	}
	r.Findings, r.Deducted = deduct(fs)
	r.Score = max(0, 100-r.Deducted)
	for _, f := range r.Findings {
		c := checkByID(f.Check)
		if c.MaxScore >= 100 || slices.ContainsFunc(r.Caps, func(x Cap) bool { return x.Check == c.ID }) {
			continue
		}
		r.Caps = append(r.Caps, Cap{Check: c.ID, MaxScore: c.MaxScore, Reason: c.Title})
		r.Score = min(r.Score, c.MaxScore)
	}
	r.Grade = GradeOf(r.Score)
	if r.Findings == nil {
		r.Findings = []Finding{}
	}
	return r
}

// newFinding fills a finding from its check's table entry; points are
// the check's default (deduct applies the check's maximum).
func newFinding(check, tool, why, evidence string) Finding {
	c := checkByID(check)
	if why == "" {
		why = c.Title
	}
	return Finding{Check: check, OWASP: c.OWASP, Tool: tool, Severity: c.Severity, Why: why, Fix: c.Fix,
		Evidence: evidence, Points: c.Points}
}

// deduct orders findings by check (the table's order), then by the
// points they ask for, then by tool, and clips each check's total to its
// maximum: later findings of a check past it cost nothing.
func deduct(fs []Finding) ([]Finding, int) {
	order := map[string]int{}
	for i, c := range checkTable {
		order[c.ID] = i
	}
	sort.SliceStable(fs, func(i, j int) bool {
		a, b := fs[i], fs[j]
		if a.Check != b.Check {
			return order[a.Check] < order[b.Check]
		}
		if a.Points != b.Points {
			return a.Points > b.Points
		}
		return a.Tool < b.Tool
	})
	spent := map[string]int{}
	total := 0
	for i := range fs {
		c := checkByID(fs[i].Check)
		p := min(fs[i].Points, c.Max-spent[c.ID])
		spent[c.ID] += p
		fs[i].Points = p
		total += p
	}
	// The report lists the costliest findings first; the check order
	// breaks ties so the order stays stable.
	sort.SliceStable(fs, func(i, j int) bool { return fs[i].Points > fs[j].Points })
	return fs, total
}

// quoteName shows a server-chosen name as is when it is plain, quoted
// and truncated otherwise, so a name cannot forge report lines.
func quoteName(s string) string {
	plain := s != "" && len(s) <= 64
	for _, r := range s {
		if !(r == '_' || r == '-' || r == '.' || r == '/' || r == ':' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			plain = false
			break
		}
	}
	if plain {
		return s
	}
	return quote(s)
}

// quote quotes a server-chosen string, truncated to 64 bytes.
func quote(s string) string { return strconv.Quote(truncate(s, 64)) }

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
