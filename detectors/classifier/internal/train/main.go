// Command train builds the classifier's embedded weights from the shared
// corpus (make model) and evaluates the procedure leave-one-source-out
// (make model-eval). It is not part of the mcpgate binary.
//
// Training is deterministic: rows are sorted by id, shuffled by a seeded
// generator, and trained on one goroutine, so the same corpus gives a
// byte-identical weights file (make model-check compares).
package main

import (
	"github.com/mcpgate/mcpgate/internal/corpusdir"

	"bytes"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"runtime/pprof"
	"sort"
	"strings"
	"time"
)

func main() {
	corpus := flag.String("corpus", "", "shared corpus directory (default: shared/corpus in a parent directory)")
	cases := flag.String("cases", "detectors/classifier/internal/train/cases.jsonl", "the repository's own labelled cases")
	out := flag.String("out", "detectors/classifier/weights.bin", "weights file to write")
	check := flag.Bool("check", false, "train and fail unless the result equals -out byte for byte")
	eval := flag.Bool("eval", false, "print leave-one-source-out tables instead of writing weights")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile here")
	flag.Parse()
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err == nil {
			pprof.StartCPUProfile(f)
			defer pprof.StopCPUProfile()
		}
	}
	if err := run(*corpus, *cases, *out, *check, *eval); err != nil {
		slog.Error("train", "err", err)
		pprof.StopCPUProfile()
		os.Exit(1)
	}
}

func run(corpus, cases, out string, check, eval bool) error {
	if corpus == "" {
		c, err := corpusdir.Find()
		if err != nil {
			return err
		}
		corpus = c
	}
	start := time.Now()
	rows, err := load(corpus, cases)
	if err != nil {
		return err
	}
	rows = append(append(rows, snippets(rows)...), phraseLists(rows)...)
	for _, r := range rows {
		featurize(r)
	}
	var ship []*row
	for _, r := range rows {
		if shippable(licenceOf(r)) {
			ship = append(ship, r)
		}
	}
	p := defaultParams()
	if v := os.Getenv("TRAIN_PARAMS"); v != "" {
		if _, err := fmt.Sscan(v, &p.epochs, &p.lr, &p.l2, &p.posCap); err != nil {
			return fmt.Errorf("TRAIN_PARAMS: %w", err)
		}
	}
	if eval {
		return evaluate(os.Stdout, rows, ship, p)
	}
	printCounts(os.Stderr, rows)
	m, b, err := fit(ship, p)
	if err != nil {
		return err
	}
	for _, h := range []int{0, 1} {
		fmt.Fprintf(os.Stderr, "head %d thresholds %+v\n", h, m.Thresholds(headOf(h)))
	}
	fmt.Fprintf(os.Stderr, "trained on %d of %d rows in %v\n", len(ship), len(rows), time.Since(start).Round(time.Millisecond))
	if check {
		old, err := os.ReadFile(out)
		if err != nil {
			return err
		}
		if !bytes.Equal(old, b) {
			return fmt.Errorf("retrained weights differ from %s: training is not reproducible, or the corpus or trainer changed without make model", out)
		}
		fmt.Fprintf(os.Stderr, "%s reproduced byte for byte\n", out)
		return nil
	}
	return os.WriteFile(out, b, 0o644)
}

// printCounts reports the rows used and left out, by licence and label.
func printCounts(w *os.File, rows []*row) {
	type key struct {
		lic, label string
		used       bool
	}
	n := map[key]int{}
	for _, r := range rows {
		l, label := licenceOf(r), r.Label
		if r.aug {
			label += "(derived)"
		}
		n[key{l, label, shippable(l)}]++
	}
	keys := make([]key, 0, len(n))
	for k := range n {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if a.used != b.used {
			return a.used
		}
		if a.label != b.label {
			return a.label < b.label
		}
		return a.lic < b.lic
	})
	for _, k := range keys {
		use := "trained"
		if !k.used {
			use = "EXCLUDED"
		}
		fmt.Fprintf(w, "%-8s %-15s %5d  %s\n", use, k.label, n[k], strings.TrimSpace(k.lic))
	}
}
