package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestEnvoyYAML checks the setups are derived from the bundled config as
// claimed: ports rewritten, and only the direct setup without ext_proc.
// Envoy itself validates the results when it is installed.
func TestEnvoyYAML(t *testing.T) {
	tmpl, err := os.ReadFile("../../envoy/envoy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ports := map[int]int{10000: 20000, 9901: 20001, 8080: 20002, 50051: 20003}
	for _, direct := range []bool{false, true} {
		cfg, err := envoyYAML(string(tmpl), ports, direct)
		if err != nil {
			t.Fatal(err)
		}
		s := string(cfg)
		for _, p := range []string{"20000", "20001", "20002"} {
			if !strings.Contains(s, p) {
				t.Errorf("direct=%v: port %s missing", direct, p)
			}
		}
		if got := strings.Contains(s, extProcFilter); got == direct {
			t.Errorf("direct=%v: config mentions %s: %v", direct, extProcFilter, got)
		}
		envoy, err := exec.LookPath("envoy")
		if err != nil {
			envoy, _ = filepath.Abs("../../.venv/bin/envoy")
		}
		if _, err := os.Stat(envoy); err != nil {
			continue
		}
		file := filepath.Join(t.TempDir(), "envoy.yaml")
		if err := os.WriteFile(file, cfg, 0o600); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command(envoy, "--mode", "validate", "-c", file).CombinedOutput(); err != nil {
			t.Errorf("direct=%v: envoy rejects the config: %v\n%s", direct, err, out)
		}
	}
	if _, err := envoyYAML("port_value: 1 }", ports, false); err == nil {
		t.Error("a config without the expected ports was accepted")
	}
}
