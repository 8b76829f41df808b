package corpusdir

import (
	"os"
	"path/filepath"
	"testing"
)

func TestFind(t *testing.T) {
	root := t.TempDir()
	want := filepath.Join(root, "shared", "corpus")
	if err := os.MkdirAll(filepath.Join(want, "train"), 0o755); err != nil {
		t.Fatal(err)
	}
	deep := filepath.Join(root, "wt", "repo", "pkg")
	if err := os.MkdirAll(deep, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Chdir(deep)
	t.Setenv("MCPGATE_CORPUS", "")
	if got, err := Find(); err != nil || got != want {
		t.Errorf("Find() = %q, %v; want %q", got, err, want)
	}
	t.Setenv("MCPGATE_CORPUS", "/elsewhere")
	if got, _ := Find(); got != "/elsewhere" {
		t.Errorf("with MCPGATE_CORPUS: %q", got)
	}
	t.Setenv("MCPGATE_CORPUS", "")
	t.Chdir(t.TempDir())
	if _, err := Find(); err == nil {
		t.Error("found a corpus where there is none")
	}
}
