package main

import (
	"fmt"
	"io"
	"slices"
	"time"
)

// report prints, per cell, the median over rounds of each setup's numbers
// and the ratios (c)/(a) and (c)/(b). Medians of per-round ratios would
// pair rounds; medians of each number are what the targets are stated in.
func report(w io.Writer, cells []cell, results map[cell]map[string][]sample) error {
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| output | setup | p50 | p99 | throughput | Envoy CPU/call | processor CPU/call | withheld | errors |")
	fmt.Fprintln(w, "|---|---|---:|---:|---:|---:|---:|---:|---:|")
	var failed error
	for _, c := range cells {
		for _, setup := range setups {
			ss := results[c][setup]
			errs, calls, withheld := 0, 0, 0
			for _, s := range ss {
				errs += s.errors
				calls += s.calls
				withheld += s.withheld
				if s.firstErr != nil && failed == nil {
					failed = fmt.Errorf("%s %s: %w", setup, c.name(), s.firstErr)
				}
			}
			fmt.Fprintf(w, "| %s | %s | %s | %s | %.0f/s | %s | %s | %s | %d |\n", c.name(), setup,
				ms(medianDur(ss, func(s sample) time.Duration { return s.p50 })),
				ms(medianDur(ss, func(s sample) time.Duration { return s.p99 })),
				medianF(ss, func(s sample) float64 { return s.throughput }),
				micros(ss, 0), micros(ss, 1), share(withheld, calls), errs)
		}
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| output | p50 c-a | p50 c-b | p99 c-a | p99 c-b | throughput c/a | throughput c/b |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|")
	worst, worstCell := 0.0, ""
	for _, c := range cells {
		a, b, m := results[c][setupDirect], results[c][setupPass], results[c][setupMcpgate]
		p50 := func(ss []sample) time.Duration { return medianDur(ss, func(s sample) time.Duration { return s.p50 }) }
		p99 := func(ss []sample) time.Duration { return medianDur(ss, func(s sample) time.Duration { return s.p99 }) }
		tp := func(ss []sample) float64 { return medianF(ss, func(s sample) float64 { return s.throughput }) }
		fmt.Fprintf(w, "| %s | %+.2f ms | %+.2f ms | %+.2f ms | %+.2f ms | %.2f | %.2f |\n", c.name(),
			msf(p50(m)-p50(a)), msf(p50(m)-p50(b)), msf(p99(m)-p99(a)), msf(p99(m)-p99(b)), tp(m)/tp(a), tp(m)/tp(b))
		if r := tp(m) / tp(b); worstCell == "" || r < worst {
			worst, worstCell = r, c.name()
		}
	}
	fmt.Fprintf(w, "\nworst throughput c/b: %.2f (%s)\n", worst, worstCell)
	if failed != nil {
		return fmt.Errorf("some calls failed, first: %w", failed)
	}
	return nil
}

// name is the cell's row label: kind, size and format.
func (c cell) name() string { return c.kind + " " + sizeName(c.size) + " " + formatName(c.sse) }

func share(n, of int) string {
	if of == 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f%%", 100*float64(n)/float64(of))
}

func medianDur(ss []sample, f func(sample) time.Duration) time.Duration {
	v := make([]time.Duration, len(ss))
	for i, s := range ss {
		v[i] = f(s)
	}
	slices.Sort(v)
	if len(v) == 0 {
		return 0
	}
	return v[len(v)/2]
}

func medianF(ss []sample, f func(sample) float64) float64 {
	v := make([]float64, len(ss))
	for i, s := range ss {
		v[i] = f(s)
	}
	slices.Sort(v)
	if len(v) == 0 {
		return 0
	}
	return v[len(v)/2]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", msf(d)) }

func msf(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// micros is the median CPU per call of process i of a setup (0 Envoy,
// 1 the processor), or "-" where there is none.
func micros(ss []sample, i int) string {
	var v []time.Duration
	for _, s := range ss {
		if i < len(s.cpu) {
			v = append(v, s.cpu[i])
		}
	}
	if len(v) == 0 {
		return "-"
	}
	slices.Sort(v)
	return fmt.Sprintf("%.0f µs", float64(v[len(v)/2])/float64(time.Microsecond))
}
