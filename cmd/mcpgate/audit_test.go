package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpgate/mcpgate/detectors/score"
	"github.com/mcpgate/mcpgate/examples/mcpserver"
)

// runAudit runs `mcpgate audit` and decodes its --json report.
func runAudit(t *testing.T, args ...string) (auditResult, int, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := Run(context.Background(), append([]string{"audit", "--json"}, args...), nil, &stdout, &stderr)
	var res auditResult
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		t.Fatalf("audit %v: exit %d, output not JSON: %v\nstdout: %s\nstderr: %s", args, code, err, stdout.String(), stderr.String())
	}
	return res, code, stderr.String()
}

func serveHTTP(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

func hasFinding(r score.Report, check, evidence string) bool {
	for _, f := range r.Findings {
		if f.Check == check && strings.Contains(f.Evidence, evidence) {
			return true
		}
	}
	return false
}

func findingsOf(r score.Report) map[string]int {
	m := map[string]int{}
	for _, f := range r.Findings {
		m[f.Check]++
	}
	return m
}

// TestAuditExampleServers grades the example servers end to end over
// real Streamable HTTP (SSE and JSON responses) with the official SDK.
func TestAuditExampleServers(t *testing.T) {
	cases := []struct {
		name     string
		handler  http.Handler
		path     string
		minScore int
		maxScore int
		grades   string
		checks   []string // findings that must be there
	}{
		{"benign", mcpserver.Handler(mcpserver.NewBenignServer()), mcpserver.PathSSE, 90, 100, "A", nil},
		{"benign json", mcpserver.Handler(mcpserver.NewBenignServer()), mcpserver.PathJSON, 90, 100, "A", nil},
		{"benign stateless", mcpserver.Handler(mcpserver.NewBenignServer()), mcpserver.PathStateless, 90, 100, "A", nil},
		{"poisoned", mcpserver.Handler(mcpserver.NewPoisonedServer()), mcpserver.PathSSE, 0, 69, "DF",
			[]string{score.CheckPoisoning, score.CheckSchemaSecret, score.CheckCommandInjection, score.CheckDestructive}},
		{"demo backend", mcpserver.NewBackend().Handler(), mcpserver.PathSSE, 70, 89, "BC",
			[]string{score.CheckDestructive, score.CheckMissingAnnotations}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			url := serveHTTP(t, c.handler) + c.path
			res, code, stderr := runAudit(t, url)
			r := res.Report
			t.Logf("%s: score %d grade %s, findings %v", c.name, r.Score, r.Grade, findingsOf(r))
			if r.Score < c.minScore || r.Score > c.maxScore || !strings.Contains(c.grades, string(r.Grade)) {
				t.Fatalf("score %d grade %s, want %d-%d and one of %s; findings %+v", r.Score, r.Grade, c.minScore, c.maxScore, c.grades, r.Findings)
			}
			if code != 0 {
				t.Fatalf("exit %d without --fail-under; stderr: %s", code, stderr)
			}
			got := findingsOf(r)
			for _, want := range c.checks {
				if got[want] == 0 {
					t.Errorf("no %s finding: %+v", want, r.Findings)
				}
			}
			if r.ProtocolVersion == "" || r.Server == "" || r.Tools == 0 {
				t.Errorf("report misses the server: %+v", r)
			}
			// Go SDK v1.8.0 answers a request for an unknown method with
			// HTTP 400 and a plain-text body, not JSON-RPC -32601.
			// The stateless 2026-07-28 path answers -32601.
			if c.path != mcpserver.PathStateless && !hasFinding(r, score.CheckErrorConformance, "HTTP 400") {
				t.Errorf("no error-conformance finding for the SDK's HTTP 400: %+v", r.Findings)
			}
		})
	}
}

func TestAuditSecretNeverPrinted(t *testing.T) {
	url := serveHTTP(t, mcpserver.Handler(mcpserver.NewPoisonedServer())) + mcpserver.PathSSE
	for _, format := range []string{"--json", "--sarif", ""} {
		var stdout, stderr bytes.Buffer
		args := []string{"audit", url}
		if format != "" {
			args = append(args, format)
		}
		Run(context.Background(), args, nil, &stdout, &stderr)
		if strings.Contains(stdout.String()+stderr.String(), mcpserver.PoisonedSecret) {
			t.Fatalf("audit %s printed the secret", format)
		}
		if stdout.Len() == 0 {
			t.Fatalf("audit %s printed nothing", format)
		}
	}
}

func TestAuditFailUnder(t *testing.T) {
	benign := serveHTTP(t, mcpserver.Handler(mcpserver.NewBenignServer())) + mcpserver.PathSSE
	poisoned := serveHTTP(t, mcpserver.Handler(mcpserver.NewPoisonedServer())) + mcpserver.PathSSE
	cases := []struct {
		name string
		args []string
		code int
	}{
		{"benign passes 90", []string{benign, "--fail-under", "90"}, 0},
		{"poisoned fails 70", []string{poisoned, "--fail-under", "70"}, 1},
		{"poisoned passes 0", []string{poisoned, "--fail-under", "0"}, 0},
		{"flags after the URL", []string{poisoned, "--fail-under=70", "--timeout", "20s"}, 1},
		{"bad fail-under", []string{benign, "--fail-under", "101"}, 2},
		{"no URL", []string{"--fail-under", "50"}, 2},
		{"bad transport", []string{benign, "--transport", "stdio"}, 2},
		{"json and sarif", []string{benign, "--json", "--sarif"}, 2},
		{"missing baseline", []string{benign, "--baseline", filepath.Join(t.TempDir(), "none.lock.json")}, 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := Run(context.Background(), append([]string{"audit"}, c.args...), nil, &stdout, &stderr); code != c.code {
				t.Fatalf("exit %d, want %d; stderr: %s", code, c.code, stderr.String())
			}
		})
	}
}

// TestAuditHandshakeFailure: nothing listening is graded F with the
// reason, and exits 2 like the other commands' connection errors.
func TestAuditHandshakeFailure(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL + "/mcp"
	for _, transport := range []string{"auto", "streamable", "sse"} {
		t.Run(transport, func(t *testing.T) {
			res, code, _ := runAudit(t, url, "--transport", transport, "--timeout", "10s")
			r := res.Report
			if code != 2 || r.Score != 0 || r.Grade != score.F || findingsOf(r)[score.CheckHandshake] != 1 {
				t.Fatalf("exit %d score %d grade %s findings %+v; want exit 2, 0, F, a handshake finding", code, r.Score, r.Grade, r.Findings)
			}
			if !strings.Contains(r.Findings[0].Evidence, "Not Found") {
				t.Errorf("the reason does not say what failed: %q", r.Findings[0].Evidence)
			}
		})
	}
	srv.Close()
	res, code, _ := runAudit(t, url, "--timeout", "10s")
	if code != 2 || res.Report.Grade != score.F {
		t.Fatalf("closed port: exit %d grade %s", code, res.Report.Grade)
	}
}

// TestAuditLegacySSE audits a server speaking the 2024-11-05 HTTP+SSE
// transport, explicitly and by fallback.
func TestAuditLegacySSE(t *testing.T) {
	s := mcpserver.NewBenignServer()
	url := serveHTTP(t, mcp.NewSSEHandler(func(*http.Request) *mcp.Server { return s }, nil))
	for _, transport := range []string{"sse", "auto"} {
		t.Run(transport, func(t *testing.T) {
			res, code, stderr := runAudit(t, url, "--transport", transport)
			if code != 0 || res.Transport != "sse" || res.Report.Tools != 2 || res.Report.Grade != score.A {
				t.Fatalf("exit %d transport %q tools %d grade %s; stderr %s", code, res.Transport, res.Report.Tools, res.Report.Grade, stderr)
			}
		})
	}
}

// TestAuditBaseline: a lockfile from `mcpgate pin` gates a rug pull.
func TestAuditBaseline(t *testing.T) {
	b := mcpserver.NewBackend()
	url := serveHTTP(t, b.Handler()) + mcpserver.PathSSE
	lock := filepath.Join(t.TempDir(), "demo.lock.json")
	var stdout, stderr bytes.Buffer
	if code := Run(context.Background(), []string{"pin", url, "-o", lock}, nil, &stdout, &stderr); code != 0 {
		t.Fatalf("pin: exit %d: %s", code, stderr.String())
	}
	res, code, _ := runAudit(t, url, "--baseline", lock)
	if code != 0 || res.Baseline != lock || len(res.Drift) != 0 {
		t.Fatalf("unchanged server: exit %d drift %+v", code, res.Drift)
	}
	// The rug pull: after one call the add tool changes.
	b.RugPullAfter(1)
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "t", Version: "0"}, nil).Connect(context.Background(),
		&mcp.StreamableClientTransport{Endpoint: url}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"text": "x"}}); err != nil {
		t.Fatal(err)
	}
	cs.Close()
	res, code, _ = runAudit(t, url, "--baseline", lock)
	if code != 1 || len(res.Drift) == 0 {
		t.Fatalf("rug-pulled server: exit %d drift %+v, want exit 1 and the change", code, res.Drift)
	}
}

// TestAuditSARIF checks the SARIF 2.1.0 shape code-scanning UIs need:
// version and schema, a driver with rules, every result naming a rule
// that exists (by id and index), a valid level, a message and a location.
func TestAuditSARIF(t *testing.T) {
	url := serveHTTP(t, mcpserver.Handler(mcpserver.NewPoisonedServer())) + mcpserver.PathSSE
	var stdout, stderr bytes.Buffer
	Run(context.Background(), []string{"audit", "--sarif", url}, nil, &stdout, &stderr)
	var log map[string]any
	if err := json.Unmarshal(stdout.Bytes(), &log); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, stdout.String())
	}
	if log["version"] != "2.1.0" || !strings.Contains(log["$schema"].(string), "sarif-2.1.0") {
		t.Fatalf("version %v schema %v", log["version"], log["$schema"])
	}
	runs := log["runs"].([]any)
	if len(runs) != 1 {
		t.Fatalf("%d runs", len(runs))
	}
	run := runs[0].(map[string]any)
	driver := run["tool"].(map[string]any)["driver"].(map[string]any)
	if driver["name"] == "" {
		t.Fatal("driver has no name")
	}
	rules := driver["rules"].([]any)
	ids := map[string]int{}
	for i, r := range rules {
		rule := r.(map[string]any)
		id, _ := rule["id"].(string)
		if id == "" || rule["shortDescription"].(map[string]any)["text"] == "" {
			t.Fatalf("rule %d incomplete: %v", i, rule)
		}
		ids[id] = i
	}
	results := run["results"].([]any)
	if len(results) == 0 {
		t.Fatal("no results for the poisoned server")
	}
	for _, x := range results {
		r := x.(map[string]any)
		id := r["ruleId"].(string)
		idx, ok := ids[id]
		if !ok || int(r["ruleIndex"].(float64)) != idx {
			t.Fatalf("result names rule %q index %v, not in rules", id, r["ruleIndex"])
		}
		switch r["level"] {
		case "none", "note", "warning", "error":
		default:
			t.Fatalf("level %v", r["level"])
		}
		if r["message"].(map[string]any)["text"] == "" {
			t.Fatal("result without message text")
		}
		locs := r["locations"].([]any)
		uri := locs[0].(map[string]any)["physicalLocation"].(map[string]any)["artifactLocation"].(map[string]any)["uri"]
		if uri != url {
			t.Fatalf("location %v, want %s", uri, url)
		}
	}
}

// TestAuditTextReport: the readable report names the score, the cap and
// each finding with why and how to fix it.
func TestAuditTextReport(t *testing.T) {
	url := serveHTTP(t, mcpserver.Handler(mcpserver.NewPoisonedServer())) + mcpserver.PathSSE
	var stdout, stderr bytes.Buffer
	Run(context.Background(), []string{"audit", url}, nil, &stdout, &stderr)
	out := stdout.String()
	for _, want := range []string{"MCP Score ", "at most 69 (grade D) because of tool-poisoning", "tool-poisoning [MCP03:2025, high] add",
		"why: ", "fix: ", "evidence: "} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(stderr.String(), "connecting to") {
		t.Errorf("no progress on stderr: %s", stderr.String())
	}
}

// TestAuditBehavioral calls read-only tools with canary URLs: the leaky
// server's preview_link really fetches its URL and must be caught (F);
// echo, which only returns its input, must not.
func TestAuditBehavioral(t *testing.T) {
	leaky := serveHTTP(t, mcpserver.Handler(mcpserver.NewLeakyServer(&http.Client{}))) + mcpserver.PathSSE
	benign := serveHTTP(t, mcpserver.Handler(mcpserver.NewBenignServer())) + mcpserver.PathSSE
	t.Run("leaky", func(t *testing.T) {
		res, code, stderr := runAudit(t, leaky, "--behavioral", "--fail-under", "55")
		r := res.Report
		if code != 1 || r.Grade != score.F || r.Score != 0 {
			t.Fatalf("exit %d score %d grade %s, want 1, 0, F; findings %+v\n%s", code, r.Score, r.Grade, r.Findings, stderr)
		}
		var tools []string
		for _, f := range r.Findings {
			if f.Check == score.CheckExfiltration {
				tools = append(tools, f.Tool)
				if !strings.Contains(f.Evidence, "canary listener") || !strings.Contains(f.Evidence, "<canary>") {
					t.Errorf("evidence %q", f.Evidence)
				}
			}
		}
		if len(r.Exercised) != 2 {
			t.Errorf("exercised %v, want echo and %s", r.Exercised, mcpserver.ToolPreviewLink)
		}
		if len(tools) != 1 || tools[0] != mcpserver.ToolPreviewLink {
			t.Fatalf("exfiltration findings for %v, want only %s", tools, mcpserver.ToolPreviewLink)
		}
	})
	t.Run("without --behavioral", func(t *testing.T) {
		res, _, _ := runAudit(t, leaky)
		if findingsOf(res.Report)[score.CheckExfiltration] != 0 || res.Report.Grade != score.A {
			t.Fatalf("no tool was called, yet %+v", res.Report)
		}
	})
	t.Run("benign", func(t *testing.T) {
		res, code, stderr := runAudit(t, benign, "--behavioral")
		if code != 0 || res.Report.Grade != score.A || !strings.Contains(stderr, `calling read-only tool "echo"`) {
			t.Fatalf("exit %d grade %s; stderr %s", code, res.Report.Grade, stderr)
		}
	})
	t.Run("poisoned calls nothing", func(t *testing.T) {
		s := mcpserver.NewPoisonedServer()
		url := serveHTTP(t, mcpserver.Handler(s)) + mcpserver.PathSSE
		_, _, stderr := runAudit(t, url, "--behavioral")
		if strings.Contains(stderr, "calling read-only tool") {
			t.Fatalf("called a tool not annotated read-only: %s", stderr)
		}
	})
}
