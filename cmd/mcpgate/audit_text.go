package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/mcpgate/mcpgate/detectors/score"
	"github.com/mcpgate/mcpgate/pinning"
)

// auditResult is everything `mcpgate audit` reports; --json prints it.
type auditResult struct {
	URL       string           `json:"url"`
	Transport string           `json:"transport,omitempty"`
	Report    score.Report     `json:"report"`
	Baseline  string           `json:"baseline,omitempty"`
	Drift     []pinning.Change `json:"drift,omitempty"`
}

func writeAudit(w io.Writer, o auditOptions, res auditResult) error {
	switch {
	case o.sarif:
		return writeJSON(w, sarifOf(res))
	case o.asJSON:
		return writeJSON(w, res)
	}
	_, err := io.WriteString(w, textReport(res))
	return err
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false) // excerpts like <IMPORTANT> stay readable
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// textReport renders the readable report: the score, what capped it,
// then the findings, costliest first.
func textReport(res auditResult) string {
	r := res.Report
	var b strings.Builder
	fmt.Fprintf(&b, "MCP Score %d/100, grade %s: %s\n", r.Score, r.Grade, res.URL)
	if r.Server != "" || r.ProtocolVersion != "" {
		fmt.Fprintf(&b, "server %s, protocol %s, %s\n", cmpOrNone(r.Server), cmpOrNone(r.ProtocolVersion), res.Transport)
		fmt.Fprintf(&b, "%d tools, %d prompts, %d resources, %d resource templates, about %d tokens of definitions\n",
			r.Tools, r.Prompts, r.Resources, r.Templates, r.TokenEstimate)
	}
	if r.Exercised != nil {
		fmt.Fprintf(&b, "behavioral: called %d read-only tools with canary URLs\n", len(r.Exercised))
	}
	for _, c := range r.Caps {
		fmt.Fprintf(&b, "at most %d (grade %s) because of %s: %s\n", c.MaxScore, score.GradeOf(c.MaxScore), c.Check, c.Reason)
	}
	if len(r.Findings) == 0 {
		b.WriteString("\nno findings\n")
	}
	for _, f := range r.Findings {
		subject := f.Tool
		if subject == "" {
			subject = "server"
		}
		fmt.Fprintf(&b, "\n-%-3d %s [%s, %s] %s\n", f.Points, f.Check, f.OWASP, f.Severity, subject)
		fmt.Fprintf(&b, "     why: %s\n", f.Why)
		if f.Evidence != "" {
			fmt.Fprintf(&b, "     evidence: %s\n", f.Evidence)
		}
		fmt.Fprintf(&b, "     fix: %s\n", f.Fix)
	}
	if res.Baseline != "" {
		fmt.Fprintf(&b, "\nbaseline %s: %d changes\n", res.Baseline, len(res.Drift))
		for _, c := range res.Drift {
			fmt.Fprintf(&b, "  %s %s %s: %s\n", c.Severity, c.Kind, c.Tool, c.Detail)
		}
	}
	return b.String()
}

func cmpOrNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
