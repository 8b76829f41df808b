package admin

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/mcpgate/mcpgate/audit"
)

// TestAdminReadiness checks that /readyz follows the gRPC health service,
// so it turns 503 when serve starts draining, while /healthz stays 200.
func TestAdminReadiness(t *testing.T) {
	metrics := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "m 1\n") })
	for _, tc := range []struct {
		status              healthpb.HealthCheckResponse_ServingStatus
		shutdown            bool
		readyz, healthz, mc int
	}{
		{healthpb.HealthCheckResponse_SERVING, false, 200, 200, 200},
		{healthpb.HealthCheckResponse_NOT_SERVING, false, 503, 200, 200},
		{healthpb.HealthCheckResponse_SERVING, true, 503, 200, 200}, // what serve does on SIGTERM
	} {
		hs := health.NewServer()
		hs.SetServingStatus("", tc.status)
		if tc.shutdown {
			hs.Shutdown()
		}
		h := Handler(&Deps{Metrics: metrics, View: &View{}, Mode: func() string { return "passive" }}, hs)
		for path, want := range map[string]int{"/readyz": tc.readyz, "/healthz": tc.healthz, "/metrics": tc.mc, "/": 200, "/nope": 404} {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
			if rec.Code != want {
				t.Errorf("%v shutdown=%v %s: %d, want %d", tc.status, tc.shutdown, path, rec.Code, want)
			}
		}
	}
}

// TestDashboardContent renders the page from records written through the
// audit view, as serve does, with a score source that has grades.
func TestDashboardContent(t *testing.T) {
	view := &View{}
	trail := audit.NewLogger(view)
	trail.Warn("", "event_id", "s-1", "event", "finding", "mode", "passive", "action", "pass", "would_action", "withhold",
		"stream", "s", "backend", "github", "tool", "<b>x</b>", "rule", "injection.override", "severity", "high", "evidence", "00000000000000aa")
	trail.Warn("", "event_id", "s-2", "event", "pin_changes", "mode", "passive", "action", "observe", "would_action", "observe",
		"stream", "s", "backend", "github", slog.Group("details", slog.Any("changes", []map[string]string{{"kind": "description_changed", "tool": "get_issue", "severity": "high"}})))
	for range ViewSize { // the ring keeps the newest records only
		trail.Warn("", "event_id", "f-1", "event", "tools_filtered", "mode", "passive", "action", "pass", "would_action", "mutate", "stream", "f", "backend", "default")
	}
	trail.Warn("", "event_id", "s-3", "event", "finding", "mode", "passive", "action", "suppressed",
		"stream", "s", "backend", "github", "tool", "<b>x</b>", "rule", "injection.override", "severity", "high", "evidence", "00000000000000aa")
	scores := func() map[string]BackendScore { return map[string]BackendScore{"github": {Score: 87, Grade: "B"}} }
	rec := httptest.NewRecorder()
	dashboard(func() string { return "passive" }, view, scores).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	body := rec.Body.String()
	for _, w := range []string{"87 (B)", "&lt;b&gt;x&lt;/b&gt;", "suppressed", fmt.Sprintf("%d audit records", ViewSize)} {
		if !strings.Contains(body, w) {
			t.Errorf("page lacks %q", w)
		}
	}
	for _, w := range []string{"<b>x</b>", "get_issue: description_changed"} { // markup; a record the ring dropped
		if strings.Contains(body, w) {
			t.Errorf("page shows %q", w)
		}
	}
	if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("CSP %q", csp)
	}
	// Drift shows its changes while the record is kept.
	view2 := &View{}
	audit.NewLogger(view2).Warn("", "event_id", "s-2", "event", "pin_changes", "mode", "passive", "action", "observe", "would_action", "observe",
		"stream", "s", "backend", "github", slog.Group("details", slog.Any("changes", []map[string]string{{"kind": "description_changed", "tool": "get_issue", "severity": "high"}})))
	rec = httptest.NewRecorder()
	dashboard(func() string { return "passive" }, view2, nil).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if !strings.Contains(rec.Body.String(), "get_issue: description_changed (high)") {
		t.Errorf("drift not shown:\n%s", rec.Body.String())
	}
}
