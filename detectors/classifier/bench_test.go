package classifier

import (
	"github.com/mcpgate/mcpgate/internal/corpusdir"

	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

type corpusRow struct {
	ID, Source, License, Lang, Label, Category, Context, Variant, Text string
}

func readRows(tb testing.TB, file string) []corpusRow {
	tb.Helper()
	dir, err := corpusdir.Find()
	if err != nil {
		tb.Skipf("%v: the corpus benchmarks and tests need the shared corpus", err)
	}
	f, err := os.Open(filepath.Join(dir, file))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var rows []corpusRow
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var r corpusRow
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			tb.Fatal(err)
		}
		rows = append(rows, r)
	}
	return rows
}

// joined concatenates the texts of rows, in file order, up to limit bytes.
func joined(rows []corpusRow, limit int) string {
	var b strings.Builder
	for _, r := range rows {
		if b.Len() >= limit {
			break
		}
		b.WriteString(r.Text)
		b.WriteString("\n\n")
	}
	return b.String()
}

// mixedText is 4 MiB of the training corpus's benign rows: prose, Go,
// Python and TypeScript source, JSON tool results, markdown and HTML, in
// a dozen languages.
func mixedText(b *testing.B) string { return joined(readRows(b, "train/benign.jsonl"), 4<<20) }

// attackText is 2 MiB of attack rows (payloads in their carriers).
func attackText(b *testing.B) string { return joined(readRows(b, "train/attacks.jsonl"), 2<<20) }

func benchScore(b *testing.B, text string) {
	m := defaultModel(b)
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	c0, n := cpuTime(), 0
	for b.Loop() {
		m.Score(text)
		n++
	}
	reportCPU(b, c0, n*len(text))
}

// reportCPU adds MB per CPU-second (all of this process's threads).
func reportCPU(b *testing.B, c0 time.Duration, bytes int) {
	if d := cpuTime() - c0; d > 0 {
		b.ReportMetric(float64(bytes)/1e6/d.Seconds(), "MB/cpu-s")
	}
}

func BenchmarkScoreMixed(b *testing.B)  { benchScore(b, mixedText(b)) }
func BenchmarkScoreAttack(b *testing.B) { benchScore(b, attackText(b)) }

// BenchmarkScore2KiB scores 2 KiB pieces one after another, as separate
// texts: the per-call cost a tool result of that size pays.
func BenchmarkScore2KiB(b *testing.B) {
	text := mixedText(b)
	m := defaultModel(b)
	const n = 2048
	b.SetBytes(n)
	b.ReportAllocs()
	i, c0, calls := 0, cpuTime(), 0
	for b.Loop() {
		if i+n > len(text) {
			i = 0
		}
		m.Score(text[i : i+n])
		i += n
		calls++
	}
	if d := cpuTime() - c0; d > 0 && calls > 0 {
		b.ReportMetric(float64(d.Microseconds())/float64(calls), "cpu-µs/op")
	}
}
