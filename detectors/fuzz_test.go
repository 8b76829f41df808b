package detectors

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// addCases seeds a fuzz target with the labelled texts in
// testdata/cases.jsonl (testdata/fuzz holds further seeds).
func addCases(f *testing.F, add func(text string)) {
	fh, err := os.Open("testdata/cases.jsonl")
	if err != nil {
		f.Fatal(err)
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		var c struct{ Text string }
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			f.Fatal(err)
		}
		add(c.Text)
	}
}

// FuzzFindings: any text scans without panic, with findings in bounds, valid
// short excerpts, known rules, the same result twice, and never the
// matched secret or personal datum in clear.
func FuzzFindings(f *testing.F) {
	addCases(f, func(text string) { f.Add(text) })
	s := newScanner(f, Options{})
	rules := s.Rules()
	f.Fuzz(func(t *testing.T, text string) {
		fs := s.Scan(text)
		checkInvariants(t, text, fs)
		for _, fd := range fs {
			if !slices.Contains(rules, fd.Rule) || !slices.Contains(Categories(), fd.Category) {
				t.Fatalf("unknown rule or category: %+v", fd)
			}
			matched := text[fd.Start:fd.End]
			if (fd.Category == Secret || fd.Category == PII) && len(matched) > 16 && strings.Contains(fd.Excerpt, matched) {
				t.Fatalf("%s excerpt %q shows the match %q in clear", fd.Rule, fd.Excerpt, matched)
			}
		}
		if again := s.Scan(text); !slices.Equal(again, fs) {
			t.Fatalf("second scan differs: %+v vs %+v", again, fs)
		}
	})
}

// FuzzTool: any bytes as a tool definition: an error only for what
// is not a JSON object, no panic, and sane findings.
func FuzzTool(f *testing.F) {
	addCases(f, func(text string) {
		tool, _ := json.Marshal(map[string]any{"name": "t", "description": text,
			"inputSchema": map[string]any{"type": "object", "properties": map[string]any{"p": map[string]any{"description": text}}}})
		f.Add(tool)
	})
	s := newScanner(f, Options{})
	f.Fuzz(func(t *testing.T, tool []byte) {
		fs, err := s.ScanTool(tool)
		if err != nil {
			if json.Valid(tool) && bytes.HasPrefix(bytes.TrimSpace(tool), []byte("{")) {
				t.Fatalf("JSON object %q refused: %v", tool, err)
			}
			return
		}
		for _, fd := range fs {
			if fd.Start < 0 || fd.Start > fd.End || !utf8.ValidString(fd.Excerpt) || fd.Severity < Low || fd.Severity > High {
				t.Fatalf("bad finding %+v", fd)
			}
		}
	})
}
