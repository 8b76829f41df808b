// Package corpusdir finds the shared labelled corpus (shared/corpus, not
// part of this repository) that detector tests, benchmarks and the
// classifier's trainer read.
package corpusdir

import (
	"errors"
	"os"
	"path/filepath"
)

// Find returns $MCPGATE_CORPUS, or the first shared/corpus holding a train
// folder found walking up from the working directory: a checkout sits
// beside it, a worktree deeper.
func Find() (string, error) {
	if d := os.Getenv("MCPGATE_CORPUS"); d != "" {
		return d, nil
	}
	dir, err := filepath.Abs(".")
	if err != nil {
		return "", err
	}
	for {
		c := filepath.Join(dir, "shared", "corpus")
		if st, err := os.Stat(filepath.Join(c, "train")); err == nil && st.IsDir() {
			return c, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no shared/corpus/train in any parent directory (set MCPGATE_CORPUS)")
		}
		dir = parent
	}
}
