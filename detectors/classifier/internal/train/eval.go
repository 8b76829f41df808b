package main

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"

	"github.com/mcpgate/mcpgate/detectors/classifier"
)

func headOf(k int) classifier.Head { return classifier.Head(k) }

// level is the severity a row gets from the attack head: 0 none, 1 low,
// 2 medium, 3 high. (The exfiltration head only names the category.)
func level(m *classifier.Model, text string) int {
	p := m.Score(text).Top[classifier.Attack].Prob
	t := m.Thresholds(classifier.Attack)
	switch {
	case p >= t.High:
		return 3
	case p >= t.Medium:
		return 2
	case p >= t.Low:
		return 1
	}
	return 0
}

// evaluate trains one model per source group of the shippable rows with
// that group left out and scores the group with it; rows the licence keeps
// out of training are scored by the model trained on all shippable rows,
// which never saw them. It prints tables by source, language, context and
// category.
func evaluate(w io.Writer, rows, ship []*row, p params) error {
	byGroup := map[string][]*row{}
	for _, r := range ship {
		byGroup[r.group()] = append(byGroup[r.group()], r)
	}
	groups := make([]string, 0, len(byGroup))
	for g := range byGroup {
		groups = append(groups, g)
	}
	sort.Strings(groups)
	if only := os.Getenv("TRAIN_FOLDS"); only != "" {
		// Tuning: only these folds, and only the source table is meaningful.
		groups = strings.Split(only, ",")
	}
	lv := make(map[*row]int, len(rows))
	var mu sync.Mutex
	var firstErr error
	jobs := make(chan string)
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			for g := range jobs {
				var rest []*row
				for _, r := range ship {
					if r.group() != g {
						rest = append(rest, r)
					}
				}
				m, _, err := fit(rest, p)
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
				}
				if err == nil {
					for _, r := range byGroup[g] {
						lv[r] = level(m, r.Text)
					}
					fmt.Fprintf(os.Stderr, "fold %s: %d rows\n", g, len(byGroup[g]))
				}
				mu.Unlock()
			}
		})
	}
	for _, g := range groups {
		jobs <- g
	}
	close(jobs)
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	full, _, err := fit(ship, p)
	if err != nil {
		return err
	}
	for _, r := range rows {
		if _, ok := lv[r]; !ok {
			lv[r] = level(full, r.Text)
		}
	}
	shipped := map[*row]bool{}
	for _, r := range ship {
		shipped[r] = true
	}
	table(w, "source (LOSO; * = licence-excluded, scored by the shipped model)", rows, lv, func(r *row) string {
		if !shipped[r] {
			return "*" + r.group()
		}
		return r.group()
	})
	table(w, "language", rows, lv, func(r *row) string { return r.Lang })
	table(w, "context", rows, lv, func(r *row) string {
		if r.Context == "" {
			return "(bare, tuning set)"
		}
		return r.Context
	})
	table(w, "category", rows, lv, func(r *row) string { return r.Category })
	table(w, "CyberSecEval variant", rows, lv, func(r *row) string {
		if len(r.Source) < 12 || r.Source[:12] != "cyberseceval" {
			return ""
		}
		return r.Variant
	})
	return nil
}

type counts struct{ n, low, med, high int }

func (c *counts) add(lv int) {
	c.n++
	if lv >= 1 {
		c.low++
	}
	if lv >= 2 {
		c.med++
	}
	if lv >= 3 {
		c.high++
	}
}

func pct(a, n int) string {
	if n == 0 {
		return "–"
	}
	return fmt.Sprintf("%.1f%%", 100*float64(a)/float64(n))
}

// table prints, per key, attack recall and benign false-positive rate at
// each severity (a row counts at a level when its severity is at least it).
func table(w io.Writer, title string, rows []*row, lv map[*row]int, key func(*row) string) {
	att, ben := map[string]*counts{}, map[string]*counts{}
	var keys []string
	for _, r := range rows {
		k := key(r)
		if k == "" || (r.aug && title != "context") {
			continue
		}
		if att[k] == nil {
			att[k], ben[k] = &counts{}, &counts{}
			keys = append(keys, k)
		}
		if r.attack() {
			att[k].add(lv[r])
		} else {
			ben[k].add(lv[r])
		}
	}
	sort.Strings(keys)
	fmt.Fprintf(w, "\n### By %s\n\n", title)
	fmt.Fprintln(w, "| key | attacks | recall ≥low | ≥medium | high | benign | FPR ≥low | ≥medium | high |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|")
	var ta, tb counts
	for _, k := range keys {
		a, b := att[k], ben[k]
		fmt.Fprintf(w, "| %s | %d | %s | %s | %s | %d | %s | %s | %s |\n", k,
			a.n, pct(a.low, a.n), pct(a.med, a.n), pct(a.high, a.n),
			b.n, pct(b.low, b.n), pct(b.med, b.n), pct(b.high, b.n))
		ta.n, ta.low, ta.med, ta.high = ta.n+a.n, ta.low+a.low, ta.med+a.med, ta.high+a.high
		tb.n, tb.low, tb.med, tb.high = tb.n+b.n, tb.low+b.low, tb.med+b.med, tb.high+b.high
	}
	fmt.Fprintf(w, "| **all** | %d | %s | %s | %s | %d | %s | %s | %s |\n",
		ta.n, pct(ta.low, ta.n), pct(ta.med, ta.n), pct(ta.high, ta.n),
		tb.n, pct(tb.low, tb.n), pct(tb.med, tb.n), pct(tb.high, tb.n))
}
