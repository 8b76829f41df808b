package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRunUsageAndConfigErrors(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("XDG_STATE_HOME", dir) // the default pin store
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string
	}{
		{"no command", nil, 2, "usage: mcpgate"},
		{"unknown command", []string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{"missing config", []string{"serve", "--config", filepath.Join(dir, "nope.yaml")}, 2, "read policy"},
		{"typo in config", []string{"serve", "--config", write("typo.yaml", "mode: active\nbackend:\n  default: {}\n")}, 2, "field backend not found"},
		{"unknown detector rule", []string{"serve", "--config", write("rule.yaml", "detectors:\n  disabled_rules: [no.such_rule]\n")}, 2, "no.such_rule"},
		{"bad severity", []string{"serve", "--config", write("sev.yaml", "detectors:\n  withhold_severity: extreme\n")}, 2, "extreme"},
		{"bad mode flag", []string{"serve", "--mode", "enforcing"}, 2, `mode "enforcing"`},
		{"bad flag", []string{"serve", "--nope"}, 2, "flag provided but not defined"},
		{"listen fails", []string{"serve", "--listen", "256.0.0.1:1"}, 1, "listen"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := Run(context.Background(), tt.args, strings.NewReader(""), &stdout, &stderr)
			if code != tt.wantCode || !strings.Contains(stderr.String(), tt.wantErr) {
				t.Errorf("exit %d, stderr %q; want %d containing %q", code, stderr.String(), tt.wantCode, tt.wantErr)
			}
		})
	}
}

// TestShippedPolicies keeps the example policies loadable, so the docs that
// point at them stay true.
func TestShippedPolicies(t *testing.T) {
	files, _ := filepath.Glob("../../examples/*.yaml")
	if len(files) == 0 {
		t.Fatal("no example policies found")
	}
	for _, f := range files {
		if _, err := loadPolicy(serveFlags{config: f}); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}
