package admin

import (
	"embed"
	"encoding/json"
	"html/template"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/mcpgate/mcpgate/audit"
)

// ViewSize is how many of the newest audit records the admin page shows.
const ViewSize = 2000

// View keeps the newest audit records for the admin page. It is an
// io.Writer beside the audit output: slog's JSON handler writes each
// record with one Write call.
type View struct {
	mu   sync.Mutex
	recs []audit.Record // ring of ViewSize
	next int
}

func (v *View) Write(p []byte) (int, error) {
	var r audit.Record
	if json.Unmarshal(p, &r) != nil || r.EventID == "" {
		return len(p), nil
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if len(v.recs) < ViewSize {
		v.recs = append(v.recs, r)
	} else {
		v.recs[v.next] = r
	}
	v.next = (v.next + 1) % ViewSize
	return len(p), nil
}

// records returns the kept records, oldest first.
func (v *View) records() []audit.Record {
	v.mu.Lock()
	defer v.mu.Unlock()
	if len(v.recs) < ViewSize {
		return slices.Clone(v.recs)
	}
	return append(slices.Clone(v.recs[v.next:]), v.recs[:v.next]...)
}

//go:embed dashboard.html
var dashboardFS embed.FS

var dashboardTmpl = template.Must(template.New("dashboard.html").Funcs(template.FuncMap{
	"when":    func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05") },
	"score":   scoreText,
	"changes": changesText,
}).ParseFS(dashboardFS, "dashboard.html"))

// BackendScore is a backend's score and grade as the page shows them.
type BackendScore struct {
	Score float64
	Grade string // empty when the source has none
}

// dashboardPage is what the template renders.
type dashboardPage struct {
	Mode     string
	Report   audit.Report
	Scores   map[string]BackendScore
	Drift    []audit.Record // newest first
	Findings []audit.Record // newest first
}

// dashboard serves a read-only HTML page: backends, what active mode
// blocks, drift and recent findings, from the newest audit records. It has
// no script; every value, attacker-chosen tool names and excerpts
// included, is escaped by html/template.
func dashboard(mode func() string, view *View, scores func() map[string]BackendScore) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		recs := view.records()
		agg := audit.NewAggregate(time.Time{}, time.Now())
		page := dashboardPage{Mode: mode()}
		for i := len(recs) - 1; i >= 0; i-- {
			rec := recs[i]
			agg.Add(rec)
			switch {
			case rec.Event == audit.Finding && len(page.Findings) < 50:
				page.Findings = append(page.Findings, rec)
			case rec.Event.IsDrift() || rec.Event == audit.ListFiltered:
				if len(page.Drift) < 20 {
					page.Drift = append(page.Drift, rec)
				}
			}
		}
		page.Report = agg.Report(10)
		if scores != nil {
			page.Scores = scores()
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		if err := dashboardTmpl.Execute(w, page); err != nil {
			http.Error(w, "render: "+err.Error(), http.StatusInternalServerError)
		}
	}
}

func scoreText(m map[string]BackendScore, backend string) string {
	s, ok := m[backend]
	if !ok {
		return "–"
	}
	text := strconv.FormatFloat(s.Score, 'f', -1, 64)
	if s.Grade != "" {
		text += " (" + s.Grade + ")"
	}
	return text
}

// changesText lists a drift record's pin changes as "tool: kind (severity)".
func changesText(r audit.Record) []string {
	var cs []struct{ Kind, Tool, Severity string }
	if json.Unmarshal(r.Details["changes"], &cs) != nil {
		return r.Tools()
	}
	out := make([]string, 0, len(cs))
	for _, c := range cs {
		out = append(out, c.Tool+": "+c.Kind+" ("+c.Severity+")")
	}
	return out
}
