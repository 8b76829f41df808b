package detectors

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// A coding agent reading a repository through a filesystem or git MCP
// server must not have its results withheld: real source code and
// documentation yield no finding the default policy withholds (medium or
// above, PII aside). This is a precision check on real content, not tuning
// data: it reads this repository and Go's own standard library.

// precisionFixtures are this repository's files that hold attack samples
// on purpose (detector test cases, fuzz seeds, end-to-end attack fixtures,
// the rules' phrase tables, the classifier's labelled training cases);
// withholding them is the gateway doing its job.
var precisionFixtures = []string{
	"detectors/testdata/", "detectors/phrases_*.go", "detectors/classifier/internal/train/cases.jsonl",
	"extproc/testdata/", "cmd/mcpgate/testdata/", "examples/", "bench/",
}

func isFixture(path string) bool {
	if strings.HasSuffix(path, "_test.go") {
		return true
	}
	for _, f := range precisionFixtures {
		if strings.HasSuffix(f, "/") && strings.HasPrefix(path, f) {
			return true
		}
		if ok, _ := filepath.Match(f, path); ok {
			return true
		}
	}
	return false
}

func TestPrecisionRepository(t *testing.T) {
	out, err := exec.Command("git", "-C", "..", "ls-files").Output()
	if err != nil {
		t.Skipf("git ls-files: %v", err)
	}
	var files []string
	for _, f := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if !isFixture(f) {
			files = append(files, filepath.Join("..", f))
		}
	}
	checkPrecision(t, files)
}

func TestPrecisionGoStdlib(t *testing.T) {
	root := filepath.Join(runtime.GOROOT(), "src")
	var files []string
	for _, dir := range []string{"net/http", "net/url", "net/mail", "net/smtp", "encoding/json", "encoding/base64", "fmt", "strings", "bufio", "os", "os/exec", "text/template", "html/template", "regexp", "log/slog", "path/filepath", "io", "flag", "testing"} {
		m, _ := filepath.Glob(filepath.Join(root, dir, "*.go"))
		files = append(files, m...)
	}
	if len(files) == 0 {
		t.Skipf("no Go sources under %s", root)
	}
	checkPrecision(t, files)
}

func checkPrecision(t *testing.T, files []string) {
	t.Helper()
	s := newScanner(t, Options{})
	scanned := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil || len(b) == 0 || strings.IndexByte(string(b[:min(len(b), 8000)]), 0) >= 0 {
			continue // unreadable or binary
		}
		scanned++
		for _, fd := range s.Scan(string(b)) {
			if withholding(fd) {
				t.Errorf("%s:%d: %s (%s) %q", f, 1+strings.Count(string(b[:fd.Start]), "\n"), fd.Rule, fd.Severity, fd.Excerpt)
			}
		}
	}
	t.Logf("%d files scanned", scanned)
}
