package classifier

import (
	"cmp"
	"slices"
	"strings"

	"github.com/mcpgate/mcpgate/detectors/classifier/internal/feature"
)

// Gram is one n-gram of a window and what it added to a head's logit.
type Gram struct {
	Text   string // normalised: lower case, white space collapsed
	Weight float32
	Start  int // byte offset of its first occurrence in the window
}

// explainLead is how far before a window the extractor starts, so the
// n-gram register and the previous word are in the state they had when
// the window was scored.
const explainLead = 64

// Explain returns the n grams of text[win.Start:win.End] that pushed head
// h's score up most, heaviest first, at most n, summed over repeats. It
// allocates; call it only for a window worth reporting.
func (m *Model) Explain(text string, win Window, h Head, n int) []Gram {
	lo := max(0, win.Start-explainLead)
	sum := map[string]*Gram{}
	feature.Each(text[lo:win.End], func(f feature.Feat) {
		if f.At+lo < win.Start || f.Start+lo < win.Start {
			return
		}
		t := normGram(text[lo+f.Start : lo+f.End])
		g := sum[t]
		if g == nil {
			g = &Gram{Text: t, Start: lo + f.Start}
			sum[t] = g
		}
		g.Weight += m.Weight(h, f.Bucket)
	})
	grams := make([]Gram, 0, len(sum))
	for _, g := range sum {
		// A gram of fewer than three visible bytes is the edge of a word
		// register, not something a reader can recognise.
		if g.Weight > 0 && len(strings.TrimSpace(g.Text)) >= 3 {
			grams = append(grams, *g)
		}
	}
	slices.SortFunc(grams, func(a, b Gram) int {
		if c := cmp.Compare(b.Weight, a.Weight); c != 0 {
			return c
		}
		return strings.Compare(a.Text, b.Text)
	})
	return grams[:min(n, len(grams))]
}

func normGram(s string) string {
	b := make([]byte, 0, len(s))
	last := byte(0)
	for i := 0; i < len(s); i++ {
		c := feature.Norm[s[i]]
		if c == ' ' && last == ' ' {
			continue
		}
		b = append(b, c)
		last = c
	}
	return string(b)
}
