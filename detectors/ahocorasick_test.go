package detectors

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// TestACSplitScanSameHits checks that the two-automata scan of long texts
// reports exactly what one automaton does, with keywords placed across the
// middle where the halves meet.
func TestACSplitScanSameHits(t *testing.T) {
	keywords := []string{"ignore", "ignore previous", "evious", "s", "send to", "忽略", "previous instructions"}
	m := newACMatcher(keywords)
	rng := rand.New(rand.NewPCG(1, 2))
	words := []string{"ignore", "previous", "instructions", "send", "to", "忽略", "x", "prev", "ious", " ", "\n"}
	for trial := range 200 {
		var b strings.Builder
		for b.Len() < minSplitScan+rng.IntN(3000) {
			b.WriteString(words[rng.IntN(len(words))])
		}
		text := b.String()
		if trial%2 == 0 { // a keyword straddling the middle
			mid := len(text) / 2
			text = text[:mid-3] + "ignore previous instructions" + text[mid-3:]
		}
		want := m.scanFrom(text, 0, 0, nil)
		got, _ := m.scan(text, nil, nil)
		if !slices.Equal(got, want) {
			t.Fatalf("trial %d: split scan found %d hits, single scan %d", trial, len(got), len(want))
		}
	}
}
