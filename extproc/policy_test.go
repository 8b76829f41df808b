package extproc

import (
	"strings"
	"testing"
)

func TestParsePolicy(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		wantErr string
	}{
		{"empty file is defaults", "", ""},
		{"active with allowlist", "mode: active\nbackends:\n  default:\n    allowed_tools: [echo, 'git_*']\n", ""},
		{"unknown key", "mode: active\nallowed_tools: [echo]\n", "field allowed_tools not found"},
		{"bad mode", "mode: enforce\n", `mode "enforce"`},
		{"bad glob", "backends:\n  default:\n    allowed_tools: ['[']\n", "syntax error in pattern"},
		{"bad size", "max_body_bytes: -1\n", "max_body_bytes -1"},
		{"not yaml", "mode: [", "decode"},
		// Per-backend overrides (policy_backends.go).
		{"overrides", routePolicy, ""},
		{"bad backend mode", "backends:\n  x:\n    mode: enforce\n", `backends.x.mode "enforce"`},
		{"bad backend size", "backends:\n  x:\n    max_body_bytes: -5\n", "backends.x.max_body_bytes -5"},
		{"bad backend severity", "backends:\n  x:\n    withhold_severity: extreme\n", "extreme"},
		{"bad failure mode", "failure_mode: maybe\n", `failure_mode: "maybe"`},
		{"bad backend failure mode", "backends:\n  x:\n    failure_mode: ajar\n", `backends.x.failure_mode: "ajar"`},
		{"unknown backend key", "backends:\n  x:\n    allowed: [echo]\n", "field allowed not found"},
		{"depth", "max_json_depth: 20\nbackends:\n  x:\n    max_json_depth: 100\n", ""},
		{"depth zero", "max_json_depth: 0\n", "max_json_depth 0: want 1-256"},
		{"depth over the ceiling", "max_json_depth: 257\n", "max_json_depth 257"},
		{"bad backend depth", "backends:\n  x:\n    max_json_depth: -1\n", "backends.x.max_json_depth -1"},
		// The learned classifier's thresholds (detectors/model.go).
		{"model thresholds", "detectors:\n  model:\n    medium: 0.9\n    high: 0.99\n", ""},
		{"model on", "detectors:\n  model:\n    enabled: true\n", ""},
		{"model medium above high", "detectors:\n  model:\n    medium: 0.99\n    high: 0.9\n", "detectors.model: thresholds low 0, medium 0.99, high 0.9"},
		{"model threshold not a probability", "detectors:\n  model:\n    high: 1.5\n", "detectors.model"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParsePolicy([]byte(tt.yaml))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestToolAllowed(t *testing.T) {
	b := BackendPolicy{AllowedTools: []string{"echo", "git_*"}}
	for tool, want := range map[string]bool{"echo": true, "git_log": true, "echo2": false, "": false, "delete_files": false} {
		if got := b.toolAllowed(tool); got != want {
			t.Errorf("toolAllowed(%q) = %v, want %v", tool, got, want)
		}
	}
	if !(BackendPolicy{}).toolAllowed("anything") {
		t.Error("an empty allowlist must allow every tool")
	}
}
