package main

import (
	"fmt"

	"github.com/mcpgate/mcpgate/detectors"
	"github.com/mcpgate/mcpgate/detectors/score"
)

// SARIF 2.1.0, the subset code-scanning UIs read: one run, the score's
// checks as rules, one result per finding. A finding is about a remote
// server, not a file, so its location is the server URL plus a logical
// location naming the tool.

const (
	sarifVersion = "2.1.0"
	sarifSchema  = "https://json.schemastore.org/sarif-2.1.0.json"
)

type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool       sarifTool      `json:"tool"`
	Results    []sarifResult  `json:"results"`
	Properties map[string]any `json:"properties,omitempty"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	InformationURI string      `json:"informationUri"`
	Rules          []sarifRule `json:"rules"`
}

type sarifRule struct {
	ID                   string         `json:"id"`
	ShortDescription     sarifText      `json:"shortDescription"`
	Help                 sarifText      `json:"help"`
	DefaultConfiguration sarifConfig    `json:"defaultConfiguration"`
	Properties           map[string]any `json:"properties"`
}

type sarifConfig struct {
	Level string `json:"level"`
}

type sarifText struct {
	Text string `json:"text"`
}

type sarifResult struct {
	RuleID     string          `json:"ruleId"`
	RuleIndex  int             `json:"ruleIndex"`
	Level      string          `json:"level"`
	Message    sarifText       `json:"message"`
	Locations  []sarifLocation `json:"locations"`
	Properties map[string]any  `json:"properties"`
}

type sarifLocation struct {
	PhysicalLocation sarifPhysical  `json:"physicalLocation"`
	LogicalLocations []sarifLogical `json:"logicalLocations,omitempty"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifact `json:"artifactLocation"`
}

type sarifArtifact struct {
	URI string `json:"uri"`
}

type sarifLogical struct {
	Name string `json:"name"`
	Kind string `json:"kind"`
}

// sarifLevel maps a severity to SARIF's levels.
func sarifLevel(s detectors.Severity) string {
	switch s {
	case detectors.High:
		return "error"
	case detectors.Medium:
		return "warning"
	}
	return "note"
}

func sarifOf(res auditResult) sarifLog {
	checks := score.Checks()
	rules := make([]sarifRule, len(checks))
	index := map[string]int{}
	for i, c := range checks {
		index[c.ID] = i
		rules[i] = sarifRule{ID: c.ID, ShortDescription: sarifText{c.Title}, Help: sarifText{"How to fix: " + c.Fix},
			DefaultConfiguration: sarifConfig{sarifLevel(c.Severity)},
			Properties: map[string]any{"owasp-mcp-top-10": c.OWASP, "points": c.Points, "max-points": c.Max,
				"max-score": c.MaxScore, "tags": []string{"security", "mcp", c.OWASP}}}
	}
	r := res.Report
	results := make([]sarifResult, 0, len(r.Findings))
	for _, f := range r.Findings {
		loc := sarifLocation{PhysicalLocation: sarifPhysical{sarifArtifact{res.URL}}}
		if f.Tool != "" {
			loc.LogicalLocations = []sarifLogical{{Name: f.Tool, Kind: "function"}}
		}
		msg := f.Why
		if f.Tool != "" {
			msg = f.Tool + ": " + msg
		}
		if f.Evidence != "" {
			msg += " (" + f.Evidence + ")"
		}
		results = append(results, sarifResult{RuleID: f.Check, RuleIndex: index[f.Check], Level: sarifLevel(f.Severity),
			Message: sarifText{msg + ". Fix: " + f.Fix}, Locations: []sarifLocation{loc},
			Properties: map[string]any{"owasp-mcp-top-10": f.OWASP, "points": f.Points}})
	}
	return sarifLog{Schema: sarifSchema, Version: sarifVersion, Runs: []sarifRun{{
		Tool:    sarifTool{sarifDriver{Name: "mcpgate audit", InformationURI: "https://github.com/mcpgate/mcpgate", Rules: rules}},
		Results: results,
		Properties: map[string]any{"score": r.Score, "grade": string(r.Grade), "server": r.Server,
			"summary": fmt.Sprintf("MCP Score %d/100, grade %s", r.Score, r.Grade)},
	}}}
}
