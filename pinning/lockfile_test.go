package pinning

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func testSet(t *testing.T) Set {
	t.Helper()
	instr := "Use echo for tests."
	s, err := NewSet([][]byte{
		[]byte(`{"name":"echo","description":"Echoes <text> back & more.","inputSchema":{"type":"object","properties":{"text":{"type":"string"}}}}`),
		[]byte(`{"name":"add","inputSchema":{"type":"object","properties":{"a":{"type":"number","maximum":1e3}}},"annotations":{"readOnlyHint":true}}`),
	}, &instr)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestLockfileRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pins.lock.json")
	lf := Lockfile{Server: "http://127.0.0.1:8080/mcp", Created: time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC), Set: testSet(t)}
	if err := WriteLockfile(path, lf); err != nil {
		t.Fatal(err)
	}
	first, _ := os.ReadFile(path)
	got, err := ReadLockfile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got.Version != 1 || got.Server != lf.Server || !got.Created.Equal(lf.Created) || got.Fingerprint != lf.Fingerprint {
		t.Errorf("read back %+v", got)
	}
	if cs := Diff(lf.Set, got.Set); len(cs) != 0 {
		t.Errorf("read back set differs: %v", cs)
	}
	if err := WriteLockfile(path, got); err != nil {
		t.Fatal(err)
	}
	second, _ := os.ReadFile(path)
	if !bytes.Equal(first, second) {
		t.Errorf("rewrite is not stable:\n%s\n%s", first, second)
	}
	for _, want := range []string{"\n  \"tools\": [", `"Echoes <text> back & more."`, `"maximum": 1e3`} {
		if !bytes.Contains(first, []byte(want)) {
			t.Errorf("lockfile lacks %q (indented, unescaped, numbers as written):\n%s", want, first)
		}
	}
	if m, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".tmp-*")); len(m) > 0 {
		t.Errorf("temp files left: %v", m)
	}
}

func TestReadLockfileErrors(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.json")
	if err := WriteLockfile(good, Lockfile{Server: "s", Set: testSet(t)}); err != nil {
		t.Fatal(err)
	}
	orig, _ := os.ReadFile(good)
	tests := []struct {
		name    string
		edit    func(string) string // nil: file missing
		wantErr string
	}{
		{"missing", nil, "no such file"},
		{"bad JSON", func(s string) string { return s[:len(s)/2] }, "invalid JSON"},
		{"wrong version", func(s string) string { return strings.Replace(s, `"version": 1`, `"version": 2`, 1) }, "version 2, want 1"},
		{"no version", func(s string) string { return strings.Replace(s, `"version": 1,`, ``, 1) }, "version 0, want 1"},
		{"definition edited", func(s string) string {
			return strings.Replace(s, "Echoes <text> back", "Echoes <text> and secrets back", 1)
		}, `tool "echo": sha256 does not match`},
		{"hash edited", func(s string) string { return strings.Replace(s, `"sha256": "`, `"sha256": "00`, 1) }, "sha256 does not match"},
		{"name edited", func(s string) string {
			return strings.Replace(s, `"name": "echo",`+"\n      \"sha256\"", `"name": "echo2",`+"\n      \"sha256\"", 1)
		}, `definition names "echo"`},
		{"instructions edited", func(s string) string { return strings.Replace(s, "Use echo for tests.", "Use echo for everything.", 1) }, "fingerprint does not match"},
		{"fingerprint edited", func(s string) string { return strings.Replace(s, `"fingerprint": "`, `"fingerprint": "00`, 1) }, "fingerprint does not match"},
		{"extra field in definition", func(s string) string { return strings.Replace(s, `"definition": {`, `"definition": {"_meta": {},`, 1) }, "fields that are not pinned"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "_"))
			if tt.edit != nil {
				edited := tt.edit(string(orig))
				if edited == string(orig) {
					t.Fatal("edit changed nothing")
				}
				if err := os.WriteFile(path, []byte(edited), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			_, err := ReadLockfile(path)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("err = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestWriteLockfileVersion(t *testing.T) {
	if err := WriteLockfile(filepath.Join(t.TempDir(), "x.json"), Lockfile{Version: 7}); err == nil {
		t.Error("version 7 written")
	}
}
