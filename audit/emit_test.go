package audit

import (
	"bytes"
	"context"
	"log/slog"
	"regexp"
	"strings"
	"testing"
)

// TestWireFormat pins the bytes of audit lines: key names, key order, which
// keys are left out when empty, truncation and details. Users parse these
// lines (docs/audit-trail.md), so a change here is a schema change.
func TestWireFormat(t *testing.T) {
	cases := []struct {
		name    string
		rec     Record
		details []slog.Attr
		want    string
	}{
		{"finding", Record{EventID: "ab-1", Event: Finding, Mode: "passive", Action: Pass, WouldAction: Withhold, Stream: "ab",
			Session: "0123abcd", Backend: "default", ProtocolVersion: "2025-06-18", Method: "tools/call", Tool: "echo",
			Rule: "injection.override", Category: "injection", Severity: "high", Field: "content[0].text",
			Excerpt: "ignore all previous instructions", Evidence: "00000000000000aa"}, nil,
			`{"time":T,"event_id":"ab-1","event":"finding","mode":"passive","action":"pass","would_action":"withhold","stream":"ab","session":"0123abcd","backend":"default","protocol_version":"2025-06-18","method":"tools/call","tool":"echo","rule":"injection.override","category":"injection","severity":"high","field":"content[0].text","excerpt":"ignore all previous instructions","evidence":"00000000000000aa"}`},
		{"suppressed finding has no would_action", Record{EventID: "ab-2", Event: Finding, Mode: "active", Action: Suppressed, Stream: "ab", Backend: "b"},
			[]slog.Attr{slog.String("suppression_reason", "reviewed")},
			`{"time":T,"event_id":"ab-2","event":"finding","mode":"active","action":"suppressed","stream":"ab","backend":"b","details":{"suppression_reason":"reviewed"}}`},
		{"decision with details", Record{EventID: "cd-3", Event: ToolNotAllowed, Mode: "active", Action: Reject, WouldAction: Reject, Stream: "cd", Backend: "github"},
			[]slog.Attr{slog.String("policy", "tool_allowlist"), slog.Any("tools", []string{"delete_repo"})},
			`{"time":T,"event_id":"cd-3","event":"tool_not_allowed","mode":"active","action":"reject","would_action":"reject","stream":"cd","backend":"github","details":{"policy":"tool_allowlist","tools":["delete_repo"]}}`},
		{"long tool truncated", Record{EventID: "e-1", Event: ToolDrifted, Mode: "passive", Action: Pass, WouldAction: Reject, Stream: "e", Backend: "b",
			Tool: strings.Repeat("t", 70)}, nil,
			`{"time":T,"event_id":"e-1","event":"tool_drifted","mode":"passive","action":"pass","would_action":"reject","stream":"e","backend":"b","tool":"` + strings.Repeat("t", 64) + `…"}`},
	}
	stamp := regexp.MustCompile(`^\{"time":"[^"]+",`)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var buf bytes.Buffer
			Emit(context.Background(), NewLogger(&buf), c.rec, c.details)
			line := strings.TrimSuffix(buf.String(), "\n")
			if !stamp.MatchString(line) {
				t.Fatalf("line does not start with the time: %s", line)
			}
			if got := stamp.ReplaceAllString(line, `{"time":T,`); got != c.want {
				t.Errorf("line\n%s\nwant\n%s", got, c.want)
			}
			back, err := Decode(buf.Bytes())
			if err != nil {
				t.Fatalf("strict decode of what Emit wrote: %v", err)
			}
			if back.Event != c.rec.Event || back.Action != c.rec.Action || back.WouldAction != c.rec.WouldAction || back.Time.IsZero() {
				t.Errorf("read back %+v", back)
			}
		})
	}
}

func TestDecodeRejectsUnknownKeys(t *testing.T) {
	if _, err := Decode([]byte(`{"time":"2026-11-25T22:00:00Z","event_id":"a-1","event":"finding","level":"WARN"}`)); err == nil {
		t.Error("a key outside the schema was accepted")
	}
}

func TestLift(t *testing.T) {
	r := Record{Tool: "kept"}
	rest := r.Lift([]slog.Attr{slog.String("tool", "other"), slog.String("rule", "r.1"), slog.Int("severity", 3), slog.String("reason", "x")})
	if r.Tool != "kept" || r.Rule != "r.1" || r.Severity != "" || len(rest) != 2 {
		t.Errorf("record %+v, rest %v", r, rest)
	}
}

func TestTruncate(t *testing.T) {
	for _, c := range []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"abcdef", 3, "abc…"},
		{"aé", 2, "a…"}, // é is two bytes: never cut inside a rune
	} {
		if got := Truncate(c.in, c.n); got != c.want {
			t.Errorf("Truncate(%q, %d) = %q, want %q", c.in, c.n, got, c.want)
		}
	}
}

func TestEventsAreDistinct(t *testing.T) {
	seen := map[Event]bool{}
	for _, e := range Events() {
		if seen[e] || e == "" || strings.HasPrefix(string(e), "would_") {
			t.Errorf("event %q repeated, empty or prefixed", e)
		}
		seen[e] = true
	}
	if len(Events()) != 20 {
		t.Errorf("%d events; update the list, docs/audit-trail.md and this count together", len(Events()))
	}
}
