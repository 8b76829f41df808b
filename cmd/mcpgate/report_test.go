package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	auditlog "github.com/mcpgate/mcpgate/audit"
)

// auditLine renders one record as the audit trail has it.
func auditLine(age time.Duration, fields string) string {
	return fmt.Sprintf(`{"time":%q,%s}`, time.Now().Add(-age).Format(time.RFC3339Nano), fields)
}

func TestReport(t *testing.T) {
	trail := strings.Join([]string{
		auditLine(time.Minute, `"event_id":"a-1","event":"finding","mode":"passive","action":"pass","would_action":"withhold","stream":"a","backend":"default","method":"tools/call","tool":"fetch_page","rule":"injection.override","category":"injection","severity":"high","excerpt":"ignore all previous instructions","evidence":"00000000000000aa"`),
		auditLine(time.Minute, `"event_id":"a-1","event":"content_withheld","mode":"passive","action":"pass","would_action":"mutate","stream":"a","backend":"default","method":"tools/call","tool":"fetch_page"`),
		auditLine(2*time.Minute, `"event_id":"b-1","event":"finding","mode":"passive","action":"pass","would_action":"withhold","stream":"b","backend":"default","method":"tools/call","tool":"fetch_page","rule":"injection.override","category":"injection","severity":"high","evidence":"00000000000000aa"`),
		auditLine(2*time.Minute, `"event_id":"b-1","event":"content_withheld","mode":"passive","action":"pass","would_action":"mutate","stream":"b","backend":"default","method":"tools/call","tool":"fetch_page"`),
		auditLine(3*time.Minute, `"event_id":"c-1","event":"tool_not_allowed","mode":"passive","action":"pass","would_action":"reject","stream":"c","backend":"github","method":"tools/call","details":{"tools":["delete_repo",""]}`),
		auditLine(3*time.Minute, `"event_id":"d-1","event":"finding","mode":"passive","action":"pass","would_action":"pass","stream":"d","backend":"github","tool":"get_issue","rule":"pii.email","category":"pii","severity":"medium","evidence":"00000000000000bb"`),
		auditLine(4*time.Minute, `"event_id":"e-1","event":"finding","mode":"passive","action":"suppressed","stream":"e","backend":"default","tool":"echo","rule":"injection.override","category":"injection","severity":"high","evidence":"00000000000000cc"`),
		auditLine(5*time.Minute, `"event_id":"f-1","event":"pin_changes","mode":"passive","action":"observe","would_action":"observe","stream":"f","backend":"default"`),
		auditLine(7*time.Minute, `"event_id":"g-1","event":"score_changed","mode":"passive","action":"observe","would_action":"observe","stream":"g","backend":"github","details":{"score":62,"grade":"D"}`),
		auditLine(6*time.Minute, `"event_id":"h-1","event":"score_changed","mode":"passive","action":"observe","would_action":"observe","stream":"h","backend":"github","details":{"score":95,"grade":"A"}`),
		auditLine(48*time.Hour, `"event_id":"old-1","event":"tool_not_allowed","mode":"passive","action":"pass","would_action":"reject","stream":"old","backend":"default"`),
		`{"time":"2026-11-25T22:00:00Z","level":"INFO","msg":"mcpgate serving","addr":"127.0.0.1:50051"}`,
		`{"event_id":"x-1","event":"finding"}`, // no time
		`not json at all`,
		`{"truncated":`,
		``,
	}, "\n")
	dir := t.TempDir()
	file := filepath.Join(dir, "audit.jsonl")
	if err := os.WriteFile(file, []byte(trail), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if code := Run(context.Background(), []string{"report", "--json", "--since", "24h", file}, nil, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var r auditlog.Report
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("%v: %s", err, out.String())
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"records", r.Records, 10},
		{"bad lines", r.BadLines, 3},
		{"other lines", r.OtherLines, 1},
		{"older", r.Older, 1},
		{"modes", fmt.Sprint(r.Modes), "[passive]"},
		{"top would-block", fmt.Sprintf("%s/%s/%s %d %d", r.WouldBlock[0].Backend, r.WouldBlock[0].Event, r.WouldBlock[0].WouldAction, r.WouldBlock[0].Count, r.WouldBlock[0].Enforced), "default/content_withheld/mutate 2 0"},
		{"denied tools named", fmt.Sprint(r.WouldBlock[1].Tools), "[delete_repo]"},
		{"top rule", fmt.Sprintf("%s %d %d %d %d", r.TopRules[0].Rule, r.TopRules[0].Findings, r.TopRules[0].Withhold, r.TopRules[0].Suppressed, r.TopRules[0].Tools), "injection.override 3 2 1 2"},
		{"top tool", fmt.Sprintf("%s/%s %d %d", r.TopTools[0].Backend, r.TopTools[0].Tool, r.TopTools[0].Findings, r.TopTools[0].WouldBlock), "default/fetch_page 2 2"},
		{"denied tool in top tools", fmt.Sprintf("%s/%s %d %d", r.TopTools[1].Backend, r.TopTools[1].Tool, r.TopTools[1].Decisions, r.TopTools[1].WouldBlock), "github/delete_repo 1 1"},
		{"backends", len(r.Backends), 2},
		{"default backend", fmt.Sprintf("%d %d %d %d %d", r.Backends[0].Streams, r.Backends[0].WouldBlock, r.Backends[0].Findings["high"], r.Backends[0].Suppressed, r.Backends[0].Drift), "4 2 2 1 1"},
		{"latest score", fmt.Sprintf("%v %v %s %d", r.Backends[0].Score == nil, *r.Backends[1].Score, r.Backends[1].Grade, r.Backends[1].Decisions), "true 95 A 1"},
		{"repeated evidence", fmt.Sprintf("%d %s %d", len(r.Evidence), r.Evidence[0].Evidence, r.Evidence[0].Count), "1 00000000000000aa 2"},
	}
	for _, c := range checks {
		if fmt.Sprint(c.got) != fmt.Sprint(c.want) {
			t.Errorf("%s: got %v, want %v", c.name, c.got, c.want)
		}
	}

	// The text form from stdin, all records.
	out.Reset()
	if code := Run(context.Background(), []string{"report", "--since", "0", "-"}, strings.NewReader(trail), &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	for _, w := range []string{"11 records", "95 A", "3 bad lines", "What active mode blocks or changes", "content_withheld", "delete_repo",
		"Top rules", "injection.override", "Top tools", "fetch_page", "Backends", "github", "Repeated evidence", "00000000000000aa"} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("text report lacks %q:\n%s", w, out.String())
		}
	}
	if code := Run(context.Background(), []string{"report", filepath.Join(dir, "missing")}, nil, &out, &errb); code != 2 {
		t.Errorf("missing file: exit %d", code)
	}
}
