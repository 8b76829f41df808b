package audit

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRotatingFile(t *testing.T) {
	for _, tc := range []struct {
		name      string
		backups   int
		wantFiles []string
	}{
		{"two backups", 2, []string{"audit.jsonl", "audit.jsonl.1", "audit.jsonl.2"}},
		{"no backups", 0, []string{"audit.jsonl"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			name := filepath.Join(dir, "audit.jsonl")
			r, err := OpenRotating(name, 100, tc.backups)
			if err != nil {
				t.Fatal(err)
			}
			line := strings.Repeat("x", 39) + "\n" // two lines per 100-byte file
			for range 9 {
				if _, err := r.Write([]byte(line)); err != nil {
					t.Fatal(err)
				}
			}
			r.Close()
			entries, _ := os.ReadDir(dir)
			var got []string
			total := 0
			for _, e := range entries {
				got = append(got, e.Name())
				b, _ := os.ReadFile(filepath.Join(dir, e.Name()))
				if len(b) > 100 || len(b)%len(line) != 0 {
					t.Errorf("%s: %d bytes, not whole lines within the limit", e.Name(), len(b))
				}
				total += len(b)
			}
			if strings.Join(got, " ") != strings.Join(tc.wantFiles, " ") {
				t.Errorf("files %v, want %v", got, tc.wantFiles)
			}
			// 9 lines, 2 per file: the current file holds 1, each backup 2.
			if want := (1 + 2*tc.backups) * len(line); total != want {
				t.Errorf("%d bytes kept, want %d", total, want)
			}
		})
	}
}
