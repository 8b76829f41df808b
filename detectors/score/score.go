package score

import (
	"cmp"
	"encoding/json"
	"fmt"
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

// contentFindings runs the detectors over every model-visible definition:
// tools, prompts, resources, templates and the instructions.
func contentFindings(sc Scanner, s Surface) []Finding {
	var out []Finding
	for _, t := range s.Tools {
		out = append(out, scanDef(sc, "tool", t.Name, t.Raw)...)
	}
	for _, group := range []struct {
		kind string
		defs []json.RawMessage
	}{{"prompt", s.Prompts}, {"resource", s.Resources}, {"resource template", s.ResourceTemplates}} {
		for _, d := range group.defs {
			var named struct {
				Name        string `json:"name"`
				URI         string `json:"uri"`
				URITemplate string `json:"uriTemplate"`
			}
			_ = json.Unmarshal(d, &named) // a nameless entry is still scanned
			name := cmp.Or(named.Name, named.URI, named.URITemplate)
			out = append(out, scanDef(sc, group.kind, name, d)...)
		}
	}
	if s.Instructions != "" {
		def, _ := json.Marshal(map[string]string{"instructions": s.Instructions})
		out = append(out, scanDef(sc, "server", "instructions", def)...)
	}
	return out
}

// scanDef turns the detector findings of one definition into score
// findings: secrets, poisoning (anything medium or higher) and suspicious
// text (low). One finding per definition and check, naming every rule.
func scanDef(sc Scanner, kind, name string, def []byte) []Finding {
	dfs, err := sc.ScanTool(def)
	if err != nil {
		return []Finding{newFinding(CheckPoisoning, subject(kind, name),
			"the definition is not a JSON object the detectors can read", "")}
	}
	groups := map[string][]detectors.Finding{}
	for _, f := range dfs {
		switch {
		case f.Category == detectors.Secret:
			groups[CheckSchemaSecret] = append(groups[CheckSchemaSecret], f)
		case f.Severity >= detectors.Medium && f.Category != detectors.PII:
			groups[CheckPoisoning] = append(groups[CheckPoisoning], f)
		default:
			groups[CheckSuspiciousText] = append(groups[CheckSuspiciousText], f)
		}
	}
	var out []Finding
	for _, check := range []string{CheckSchemaSecret, CheckPoisoning, CheckSuspiciousText} {
		g := groups[check]
		if len(g) == 0 {
			continue
		}
		why := fmt.Sprintf("%s: %s", checkByID(check).Title, ruleList(g))
		out = append(out, newFinding(check, subject(kind, name), why, evidence(g)))
	}
	return out
}

func subject(kind, name string) string {
	if kind == "tool" {
		return quoteName(name)
	}
	return kind + " " + quoteName(name)
}

// ruleList names the distinct rules of findings, in order.
func ruleList(fs []detectors.Finding) string {
	var rules []string
	for _, f := range fs {
		if !slices.Contains(rules, f.Rule) {
			rules = append(rules, f.Rule)
		}
	}
	return strings.Join(rules, ", ")
}

// evidence quotes the first findings' fields and redacted excerpts.
func evidence(fs []detectors.Finding) string {
	var parts []string
	for i, f := range fs {
		if i == 3 {
			parts = append(parts, fmt.Sprintf("and %d more", len(fs)-i))
			break
		}
		parts = append(parts, fmt.Sprintf("%s: %s %q", cmp.Or(f.Field, "text"), f.Rule, f.Excerpt))
	}
	return strings.Join(parts, "; ")
}

// toolFindings runs the per-tool heuristics.
func toolFindings(t *toolView) []Finding {
	var out []Finding
	name := quoteName(t.Name)
	if w := execLike(t); w != "" {
		if p := freeString(t); p != "" {
			out = append(out, newFinding(CheckCommandInjection, name, "",
				fmt.Sprintf("looks exec-like (%s) and takes free string %s", quote(w), quote(p))))
		}
	}
	if w := destructive(t); w != "" {
		switch {
		case t.readOnly():
			out = append(out, newFinding(CheckAnnotationMismatch, name, "",
				fmt.Sprintf("readOnlyHint true, but %s", quote(w))))
		case !t.markedDestructive() && confirmParam(t) == "":
			out = append(out, newFinding(CheckDestructive, name, "",
				fmt.Sprintf("%s, annotations %s, no confirm or dry_run parameter", quote(w), annotationText(t.Tool))))
		}
	}
	if t.Annotations == nil {
		out = append(out, newFinding(CheckMissingAnnotations, name, "", ""))
	}
	return out
}

func annotationText(t Tool) string {
	if t.Annotations == nil {
		return "absent"
	}
	b, _ := json.Marshal(t.Annotations)
	return truncate(string(b), 120)
}

// trifecta looks for the three legs across the server's tools.
func trifecta(tools []*toolView) []Finding {
	var ingest, sensitive, outbound string
	for _, t := range tools {
		l := legsOf(t)
		if ingest == "" && l.ingest != "" {
			ingest = quoteName(t.Name) + " " + l.ingest
		}
		if sensitive == "" && l.sensitive != "" {
			sensitive = quoteName(t.Name) + " " + l.sensitive
		}
		if outbound == "" && l.outbound != "" {
			outbound = quoteName(t.Name) + " " + l.outbound
		}
	}
	if ingest == "" || sensitive == "" || outbound == "" {
		return nil
	}
	return []Finding{newFinding(CheckTrifecta, "", "",
		fmt.Sprintf("untrusted content: %s; sensitive data: %s; outbound or destructive: %s", ingest, sensitive, outbound))}
}

// surfaceCost returns the bytes of every definition a client loads into
// the model's context, and the tokens they cost (about 4 bytes a token).
func surfaceCost(s Surface) (int, int) {
	n := len(s.Instructions)
	for _, t := range s.Tools {
		n += len(t.Raw)
	}
	for _, d := range s.Prompts {
		n += len(d)
	}
	return n, (n + 3) / 4
}

func sizeFindings(bytes, tools, tokens int) []Finding {
	var out []Finding
	if tools > 40 {
		f := newFinding(CheckSurfaceSize, "", "", strconv.Itoa(tools)+" tools")
		if tools <= 80 {
			f.Points = 5
		} else {
			f.Points = 10
		}
		out = append(out, f)
	}
	if tokens > 10000 {
		f := newFinding(CheckTokenCost, "", "", fmt.Sprintf("about %d tokens (%d bytes)", tokens, bytes))
		if tokens <= 25000 {
			f.Points = 5
		} else {
			f.Points = 10
		}
		out = append(out, f)
	}
	return out
}

// currentVersions are the protocol revisions from 2025-06-18 on.
var currentVersions = map[string]bool{"2025-06-18": true, "2025-11-25": true, "2026-07-28": true}

func protocolFindings(s Surface) []Finding {
	var out []Finding
	if v := s.ProtocolVersion; v != "" && !currentVersions[v] {
		out = append(out, newFinding(CheckProtocolVersion, "", "", "negotiated "+quote(v)))
	}
	if p := s.UnknownMethod; p != nil && (p.Result || p.ErrorCode != -32601) {
		f := newFinding(CheckErrorConformance, "", "", "")
		switch {
		case p.Result:
			f.Points, f.Evidence = 10, "answered with a result"
		case p.ErrorCode != 0:
			f.Evidence = fmt.Sprintf("error code %d", p.ErrorCode)
		default:
			f.Evidence = "no JSON-RPC error: " + truncate(p.Detail, 120)
		}
		out = append(out, f)
	}
	return out
}

// behaviorFindings turns what calling tools showed into findings.
func behaviorFindings(sc Scanner, b *Behavior) []Finding {
	if b == nil {
		return nil
	}
	var out []Finding
	for _, e := range b.Exfiltrations {
		out = append(out, newFinding(CheckExfiltration, quoteName(e.Tool), "", truncate(e.Evidence, 200)))
	}
	for _, o := range b.Outputs {
		var bad []detectors.Finding
		for _, f := range sc.Scan(o.Text) {
			if f.Severity >= detectors.Medium && f.Category != detectors.PII && f.Category != detectors.Secret {
				bad = append(bad, f)
			}
		}
		if len(bad) > 0 {
			out = append(out, newFinding(CheckOutputInjection, quoteName(o.Tool),
				checkByID(CheckOutputInjection).Title+": "+ruleList(bad), evidence(bad)))
		}
	}
	return out
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
