package detectors

import (
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// Realistic benchmark texts, built at benchmark time from the training
// corpus (never stored in the repo): the mixed text is every benign row in
// file order — prose about prompts and tools, Python/Go/TypeScript source,
// tool-definition and API JSON, markdown and HTML pages, e-mails, in ten
// languages — and the attack-dense text is every attack row.
var (
	benchOnce            sync.Once
	benchMixed, benchAtk string
)

func benchTexts(b *testing.B) (mixed, attack string) {
	b.Helper()
	benchOnce.Do(func() {
		rows, err := readJSONL(filepath.Join("train", "*.jsonl"))
		if err != nil {
			return
		}
		var m, a strings.Builder
		for _, r := range rows {
			w := &m
			if r.Label == "attack" {
				w = &a
			}
			w.WriteString(r.Text)
			w.WriteByte('\n')
		}
		benchMixed, benchAtk = m.String(), a.String()
	})
	if benchMixed == "" || benchAtk == "" {
		b.Skipf("realistic benchmark texts need shared/corpus/train/*.jsonl (not found under %q; set MCPGATE_CORPUS)", corpusDir)
	}
	return benchMixed, benchAtk
}

// BenchmarkScanMixed: the realistic benign mix, one Scan over all of it.
func BenchmarkScanMixed(b *testing.B) {
	mixed, _ := benchTexts(b)
	benchScan(b, mixed)
}

// BenchmarkScanAttackDense: every attack row of the corpus, one Scan.
func BenchmarkScanAttackDense(b *testing.B) {
	_, attack := benchTexts(b)
	benchScan(b, attack)
}

// BenchmarkScanMixedDocs scans the mix one row at a time, as the gateway
// scans one tool result at a time.
func BenchmarkScanMixedDocs(b *testing.B) {
	mixed, _ := benchTexts(b)
	docs := strings.SplitAfter(mixed, "\n")
	s := newScanner(b, Options{})
	b.SetBytes(int64(len(mixed)))
	b.ReportAllocs()
	for b.Loop() {
		for _, d := range docs {
			s.Scan(d)
		}
	}
}

// BenchmarkScanMixed2KiB: time per 2 KiB chunk of the mix, over every
// chunk in turn (ns/op is the per-chunk figure).
func BenchmarkScanMixed2KiB(b *testing.B) {
	mixed, _ := benchTexts(b)
	var chunks []string
	for i := 0; i+2048 <= len(mixed); i += 2048 {
		chunks = append(chunks, mixed[i:i+2048])
	}
	s := newScanner(b, Options{})
	b.SetBytes(2048)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		s.Scan(chunks[i%len(chunks)])
		i++
	}
}

// BenchmarkScanMixedSize checks that time is linear in size: MB/s should
// not fall as the prefix of the mix grows.
func BenchmarkScanMixedSize(b *testing.B) {
	mixed, attack := benchTexts(b)
	for _, n := range []int{64 << 10, 1 << 20, 8 << 20} {
		for _, c := range []struct {
			name, text string
		}{{"mixed", mixed}, {"attack", attack}} {
			if n > len(c.text) {
				continue
			}
			b.Run(fmt.Sprintf("%s/%dKiB", c.name, n>>10), func(b *testing.B) { benchScan(b, c.text[:snapRune(c.text, n)]) })
		}
	}
}
