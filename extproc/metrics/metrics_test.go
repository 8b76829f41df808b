package metrics

import (
	"fmt"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/extproc"
)

var _ extproc.Metrics = (*Prometheus)(nil)

func scrape(t *testing.T, p *Prometheus) string {
	t.Helper()
	rec := httptest.NewRecorder()
	p.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	b, _ := io.ReadAll(rec.Body)
	return string(b)
}

// series counts the exposition lines of a metric whose labels contain all of want.
func series(body, name string, want ...string) int {
	n := 0
	for _, l := range strings.Split(body, "\n") {
		if !strings.HasPrefix(l, name+"{") {
			continue
		}
		ok := true
		for _, w := range want {
			ok = ok && strings.Contains(l, w)
		}
		if ok {
			n++
		}
	}
	return n
}

func TestLabelsBounded(t *testing.T) {
	for _, tc := range []struct {
		name  string
		feed  func(p *Prometheus)
		check func(t *testing.T, body string)
	}{
		{"tools past the cap count as _other", func(p *Prometheus) {
			for i := range maxTools + 50 {
				p.Message("default", "tools/call", fmt.Sprintf("tool_%d", i))
			}
		}, func(t *testing.T, body string) {
			if n := series(body, "mcpgate_tool_calls_total"); n != maxTools+1 {
				t.Errorf("%d tool series, want %d", n, maxTools+1)
			}
			if !strings.Contains(body, `mcpgate_tool_calls_total{backend="default",tool="_other"} 50`) {
				t.Errorf("no _other series of 50:\n%s", body)
			}
		}},
		{"non-spec methods count as other", func(p *Prometheus) {
			p.Message("default", "tools/call", "echo")
			p.Message("default", "x/"+strings.Repeat("a", 300), "")
			p.Message("default", "evil/method", "")
		}, func(t *testing.T, body string) {
			if !strings.Contains(body, `mcpgate_messages_total{backend="default",method="other"} 2`) ||
				!strings.Contains(body, `mcpgate_messages_total{backend="default",method="tools/call"} 1`) {
				t.Errorf("methods not bucketed:\n%s", body)
			}
		}},
		{"backends past the cap count as _other", func(p *Prometheus) {
			for i := range maxBackends + 3 {
				p.StreamStarted(fmt.Sprintf("b%d", i))
			}
		}, func(t *testing.T, body string) {
			if n := series(body, "mcpgate_streams_total"); n != maxBackends+1 {
				t.Errorf("%d backend series, want %d", n, maxBackends+1)
			}
		}},
		{"long and invalid UTF-8 values are trimmed, not a panic", func(p *Prometheus) {
			p.Message("default", "tools/call", strings.Repeat("é", 100)+"\xff")
			p.Error("k\xffk")
		}, func(t *testing.T, body string) {
			if !strings.Contains(body, `tool="`+strings.Repeat("é", 32)+`"}`) {
				t.Errorf("tool not trimmed to 64 bytes:\n%s", body)
			}
		}},
		{"findings, decisions, drift, phases, scores", func(p *Prometheus) {
			p.Finding("default", "secret.aws_access_key", "secret", "high", false)
			p.Finding("default", "injection.override", "injection", "high", true)
			p.Decision("default", "content_withheld", "pass", "mutate")
			p.Drift("default", "description_changed")
			p.Phase("request_body", 300*time.Microsecond)
			p.Scanned("default", "response", 1000)
			p.SetScore("default", 87)
		}, func(t *testing.T, body string) {
			for _, w := range []string{
				`mcpgate_findings_total{backend="default",category="secret",rule="secret.aws_access_key",severity="high",suppressed="false"} 1`,
				`mcpgate_findings_total{backend="default",category="injection",rule="injection.override",severity="high",suppressed="true"} 1`,
				`mcpgate_decisions_total{action="pass",backend="default",event="content_withheld",would_action="mutate"} 1`,
				`mcpgate_drift_total{backend="default",kind="description_changed"} 1`,
				`mcpgate_phase_duration_seconds_count{phase="request_body"} 1`,
				`mcpgate_scanned_bytes_total{backend="default",direction="response"} 1000`,
				`mcpgate_backend_score{backend="default"} 87`,
				`go_goroutines`,
			} {
				if !strings.Contains(body, w) {
					t.Errorf("lacks %s", w)
				}
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := New() // a registry per server: tests do not share counts
			tc.feed(p)
			tc.check(t, scrape(t, p))
		})
	}
}

func TestScores(t *testing.T) {
	p := New()
	for i := range maxBackends + 5 {
		p.SetScore(fmt.Sprintf("b%d", i), float64(i))
	}
	p.SetScore("b0", 99)
	got := p.Scores()
	if len(got) != maxBackends || got["b0"] != 99 || got["b1"] != 1 {
		t.Errorf("scores %v", got)
	}
	got["b0"] = 1 // a copy: the page cannot change them
	if p.Scores()["b0"] != 99 {
		t.Error("Scores returned the live map")
	}

	// A source is read at each scrape.
	q := New()
	current := 40.0
	q.ScoresFrom(func() map[string]float64 { return map[string]float64{"default": current} })
	for _, want := range []string{"40", "75"} {
		if body := scrape(t, q); !strings.Contains(body, `mcpgate_backend_score{backend="default"} `+want) {
			t.Errorf("scrape lacks score %s:\n%s", want, grepScore(body))
		}
		current = 75
	}
}

func grepScore(body string) string {
	var out []string
	for _, l := range strings.Split(body, "\n") {
		if strings.HasPrefix(l, "mcpgate_backend_score") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestMethodLabels: every method in extproc's table is its own label and
// every label is in the table, so the two lists cannot drift apart.
func TestMethodLabels(t *testing.T) {
	known := map[string]bool{}
	for _, m := range extproc.KnownMethods() {
		known[m] = true
		if got := methodLabel(m); got != m {
			t.Errorf("methodLabel(%q) = %q", m, got)
		}
	}
	for m := range specMethods {
		if !known[m] {
			t.Errorf("label %q has no row in extproc's method table", m)
		}
	}
}
