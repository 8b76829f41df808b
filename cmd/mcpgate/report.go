package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	auditlog "github.com/mcpgate/mcpgate/audit"
)

// report summarises an audit trail (auditlog.Aggregate) for an operator deciding whether to
// switch to active mode: what was found, where, and what active mode
// would have blocked.
func report(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("mcpgate report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	since := fs.Duration("since", 24*time.Hour, "only records this recent (0: all)")
	top := fs.Int("top", 10, "rows in each top list")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: mcpgate report [--since 24h] [--top 10] [--json] [FILE…|-]")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args, stdout); err != nil {
		return exitCode(err)
	}
	files := fs.Args()
	if len(files) == 0 {
		files = []string{"-"}
	}
	now := time.Now()
	var from time.Time
	if *since > 0 {
		from = now.Add(-*since)
	}
	agg := auditlog.NewAggregate(from, now)
	for _, name := range files {
		if err := readTrail(agg, name, stdin); err != nil {
			fmt.Fprintf(stderr, "mcpgate report: %v\n", err)
			return 2
		}
	}
	r := agg.Report(*top)
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(r); err != nil {
			fmt.Fprintf(stderr, "mcpgate report: %v\n", err)
			return 2
		}
		return 0
	}
	r.Print(stdout, *since)
	return 0
}

// readTrail feeds the lines of one trail file ("-": stdin) to a.
func readTrail(a *auditlog.Aggregate, name string, stdin io.Reader) error {
	in := stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return fmt.Errorf("audit trail: %w", err)
		}
		defer f.Close()
		in = f
	}
	br := bufio.NewReaderSize(in, 64<<10)
	for {
		line, err := readLine(br) // scan.go: lines past maxScanLine are skipped
		if len(line) > 0 {
			a.Line(bytes.TrimRight(line, "\r\n"))
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil && !errors.Is(err, errLineTooLong) {
			return fmt.Errorf("read %s: %w", name, err)
		}
		if err != nil {
			a.BadLine()
		}
	}
}
