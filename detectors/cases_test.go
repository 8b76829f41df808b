package detectors

import (
	"bufio"
	"encoding/json"
	"os"
	"slices"
	"testing"
)

// TestCases checks the labelled cases in testdata/cases.jsonl: an attack
// row must yield every rule in "want"; a benign row must yield nothing.
func TestCases(t *testing.T) {
	fh, err := os.Open("testdata/cases.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	s := newScanner(t, Options{})
	sc := bufio.NewScanner(fh)
	n := 0
	for sc.Scan() {
		var c struct {
			ID, Label, Category, Text string
			Want                      []string
		}
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatalf("line %d: %v", n+1, err)
		}
		n++
		fs := s.Scan(c.Text)
		checkInvariants(t, c.Text, fs)
		var got []string
		for _, f := range fs {
			got = append(got, f.Rule)
		}
		if c.Label == "benign" && len(fs) > 0 {
			t.Errorf("%s (benign %s): unexpected %v", c.ID, c.Category, fs)
		}
		for _, w := range c.Want {
			if !slices.Contains(got, w) {
				t.Errorf("%s: want %s, got %v in %q", c.ID, w, got, c.Text)
			}
		}
	}
	if n < 60 {
		t.Errorf("only %d cases", n)
	}
}
