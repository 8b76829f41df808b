// Command loadgen measures what mcpgate costs on the request path: it
// drives MCP tools/call requests through a real Envoy in three setups and
// prints p50/p99 latency, throughput and the ratios between setups.
//
//	(a) direct:  Envoy routes straight to the backend (no ext_proc filter)
//	(b) pass:    Envoy + passproc, a processor that sees every phase and passes it
//	(c) mcpgate: Envoy + mcpgate serve, active, all detectors and pinning
//
// Setups and rounds are interleaved so that machine noise hits all setups
// alike; the report gives medians over rounds. With -sse-streams N it
// instead measures mcpgate's memory with N concurrent open SSE streams.
// See bench/README.md.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

const (
	setupDirect  = "a-direct"
	setupPass    = "b-pass"
	setupMcpgate = "c-mcpgate"
)

var setups = []string{setupDirect, setupPass, setupMcpgate}

type options struct {
	bin         binaries
	envoyConfig string
	rounds      int
	calls       int
	duration    time.Duration
	clients     int
	sizes       []int
	kinds       []string
	corpus      string
	concurrency int
	sseStreams  int
	lifetime    []int
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	var o options
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	fs.StringVar(&o.bin.envoy, "envoy", "envoy", "envoy binary")
	fs.StringVar(&o.bin.mcpgate, "mcpgate", "bin/mcpgate", "mcpgate binary")
	fs.StringVar(&o.bin.passproc, "passproc", "bin/passproc", "baseline processor binary")
	fs.StringVar(&o.bin.backend, "backend", "bin/bench-backend", "backend binary")
	fs.StringVar(&o.envoyConfig, "envoy-config", "envoy/envoy.yaml", "bundled Envoy config to derive the setups from")
	fs.IntVar(&o.rounds, "rounds", 3, "rounds; each runs every setup once per cell")
	fs.IntVar(&o.calls, "calls", 300, "sequential calls per cell and round (latency phase)")
	fs.DurationVar(&o.duration, "duration", time.Second, "length of each phase per cell and round")
	fs.IntVar(&o.clients, "clients", 8, "concurrent clients in the throughput phase")
	fs.IntVar(&o.concurrency, "envoy-concurrency", 2, "Envoy worker threads")
	sizes := fs.String("sizes", "1k,16k,256k", "tool output sizes")
	kinds := fs.String("kinds", "prose,code,json,markup,attack", "tool output kinds: prose, code, json, markup (from -corpus), attack (prose with one withheld injection), repeat (one sentence repeated)")
	fs.StringVar(&o.corpus, "corpus", "../shared/corpus/train", "training corpus folder the backend builds outputs from")
	quick := fs.Bool("quick", false, "one round of short phases (a smoke run, not a measurement)")
	fs.IntVar(&o.sseStreams, "sse-streams", 0, "instead of the load test, hold this many SSE streams open in mcpgate and report its memory")
	lifetime := fs.String("lifetime-events", "100,500,1000", "with -sse-streams: cumulative events per stream at which memory is read again")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var err error
	if o.sizes, err = parseSizes(*sizes); err != nil {
		return err
	}
	o.kinds = strings.Split(*kinds, ",")
	if !slices.ContainsFunc(o.kinds, func(k string) bool { return k != "repeat" }) {
		o.corpus = ""
	} else {
		if o.corpus, err = filepath.Abs(o.corpus); err != nil {
			return err
		}
		if _, err := os.Stat(filepath.Join(o.corpus, "benign.jsonl")); err != nil {
			return fmt.Errorf("-corpus %s: %w (realistic outputs are built from the training corpus; -kinds repeat needs none)", o.corpus, err)
		}
	}
	for _, f := range strings.Split(*lifetime, ",") {
		n, err := strconv.Atoi(f)
		if err != nil || (len(o.lifetime) > 0 && n <= o.lifetime[len(o.lifetime)-1]) {
			return fmt.Errorf("-lifetime-events %q: want increasing counts", *lifetime)
		}
		o.lifetime = append(o.lifetime, n)
	}
	if *quick {
		o.rounds, o.calls, o.duration = 1, 50, 500*time.Millisecond
	}
	if o.sseStreams > 0 {
		return memory(ctx, o, stdout)
	}
	return load(ctx, o, stdout)
}

// cell is one output kind, size and format.
type cell struct {
	kind string
	size int
	sse  bool
}

func load(ctx context.Context, o options, stdout io.Writer) error {
	st, err := start(ctx, o.bin, o.envoyConfig, o.concurrency, o.corpus)
	if st != nil {
		defer st.stop()
	}
	if err != nil {
		return err
	}
	hc := newHTTPClient(o.clients + 1)
	clients := map[string]map[bool]*client{}
	for _, setup := range setups {
		clients[setup] = map[bool]*client{}
		for _, sse := range []bool{false, true} {
			c, err := connect(ctx, hc, st.envoys[setup], sse)
			if err != nil {
				return fmt.Errorf("%s: %w", setup, err)
			}
			clients[setup][sse] = c
		}
	}
	var cells []cell
	for _, kind := range o.kinds {
		for _, sse := range []bool{false, true} {
			for _, size := range o.sizes {
				cells = append(cells, cell{kind, size, sse})
			}
		}
	}
	load, _ := os.ReadFile("/proc/loadavg")
	fmt.Fprintf(stdout, "loadgen: %d CPUs, load average %s", runtime.NumCPU(), load)
	fmt.Fprintf(stdout, "loadgen: %d rounds x %d cells x %d setups; latency phase %d sequential calls, throughput phase %d clients for %s\n",
		o.rounds, len(cells), len(setups), o.calls, o.clients, o.duration)
	results := map[cell]map[string][]sample{}
	for _, c := range cells {
		results[c] = map[string][]sample{}
		for _, setup := range setups { // warm-up, not recorded
			measure(ctx, clients[setup][c.sse].forCell(c), 20, 200*time.Millisecond, o.clients, nil)
		}
	}
	for r := range o.rounds {
		for i, c := range cells {
			// Rotate the order per round and cell so no setup always runs
			// first (or right after the most expensive one).
			order := slices.Clone(setups)
			rot := (r + i) % len(order)
			order = append(order[rot:], order[:rot]...)
			for _, setup := range order {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				s := measure(ctx, clients[setup][c.sse].forCell(c), o.calls, o.duration, o.clients, st.pids[setup])
				results[c][setup] = append(results[c][setup], s)
			}
		}
		fmt.Fprintf(stdout, "loadgen: round %d/%d done\n", r+1, o.rounds)
	}
	return report(stdout, cells, results)
}
