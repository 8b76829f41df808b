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
	// Start and End are the byte span of its first occurrence in the
	// window.
	Start, End int
}

// explainLead is how far before a window the extractor starts, so the
// n-gram register and the previous word are in the state they had when
// the window was scored.
const explainLead = 64

// Explain returns the words and word pairs of text[win.Start:win.End]
// that pushed head h's score up most, heaviest first, at most n. A word's
// weight is its own plus that of the character n-grams inside it, summed
// over repeats, so the explanation names readable words rather than
// fragments. It allocates; call it only for a window worth reporting.
func (m *Model) Explain(text string, win Window, h Head, n int) []Gram {
	lo := max(0, win.Start-explainLead)
	var words, chars []feature.Feat
	var wts, cwts []float32
	feature.Each(text[lo:win.End], func(f feature.Feat) {
		if f.At+lo < win.Start || f.Start+lo < win.Start {
			return
		}
		if f.Kind == feature.Char {
			chars, cwts = append(chars, f), append(cwts, m.Weight(h, f.Bucket))
		} else {
			words, wts = append(words, f), append(wts, m.Weight(h, f.Bucket))
		}
	})
	sum := map[string]*Gram{}
	for i, f := range words {
		w := wts[i]
		for j, c := range chars {
			if c.Start >= f.Start && c.End <= f.End {
				w += cwts[j]
			}
		}
		t := normGram(text[lo+f.Start : lo+f.End])
		g := sum[t]
		if g == nil {
			g = &Gram{Text: t, Start: lo + f.Start, End: lo + f.End}
			sum[t] = g
		}
		g.Weight += w
	}
	grams := make([]Gram, 0, len(sum))
	for _, g := range sum {
		// Words of one or two bytes ("a", "to") carry no explanation.
		if g.Weight > 0 && len(g.Text) >= 3 {
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
