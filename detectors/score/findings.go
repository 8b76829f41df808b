package score

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/mcpgate/mcpgate/detectors"
)

// The checks: each turns part of a surface into findings with their
// check's default points; Score clips and caps them.

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
