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
	"strings"
	"time"

	"github.com/mcpgate/mcpgate/detectors"
)

// maxScanLine bounds one JSON line or text input so a runaway file cannot
// exhaust memory.
const maxScanLine = 64 << 20

type scanInput struct {
	ID   json.RawMessage `json:"id"`
	Text *string         `json:"text"`
	Tool json.RawMessage `json:"tool"`
}

type scanOutput struct {
	ID       json.RawMessage     `json:"id"`
	Findings []detectors.Finding `json:"findings"`
	Error    string              `json:"error,omitempty"`
}

// scan runs the detectors over a text or JSON lines. Exit codes: 0 no high
// finding, 1 at least one high finding, 2 usage or input errors (after
// every other input has still been scanned and reported).
func scan(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("mcpgate scan", flag.ContinueOnError)
	fs.SetOutput(stderr)
	jsonl := fs.Bool("jsonl", false, `input is JSON lines {"id","text"} or {"id","tool":{...}}; output one {"id","findings"} line each`)
	asJSON := fs.Bool("json", false, "print the findings of a text as one JSON array")
	disabled := fs.String("disable", "", "comma-separated rule ids not to report")
	minSev := fs.String("min-severity", "low", "lowest severity to report: low, medium, high")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: mcpgate scan [flags] FILE|-\n\nScans a text (or JSON lines with --jsonl) for injection, exfiltration, secrets, PII,\nobfuscation and tool poisoning. Exit 0: no high finding; 1: a high finding; 2: error.\n\n")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args, stdout); err != nil {
		return exitCode(err)
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return 2
	}
	sev, err := detectors.ParseSeverity(*minSev)
	if err != nil {
		fmt.Fprintf(stderr, "mcpgate scan: %v\n", err)
		return 2
	}
	opts := detectors.Options{MinSeverity: sev}
	if *disabled != "" {
		opts.DisabledRules = strings.Split(*disabled, ",")
	}
	sc, err := detectors.New(opts)
	if err != nil {
		fmt.Fprintf(stderr, "mcpgate scan: %v\n", err)
		return 2
	}
	in, name, err := openInput(fs.Arg(0), stdin)
	if err != nil {
		fmt.Fprintf(stderr, "mcpgate scan: %v\n", err)
		return 2
	}
	defer in.Close()
	if *jsonl {
		return scanLines(sc, in, name, stdout, stderr)
	}
	return scanText(sc, in, name, *asJSON, stdout, stderr)
}

func openInput(arg string, stdin io.Reader) (io.ReadCloser, string, error) {
	if arg == "-" {
		return io.NopCloser(stdin), "stdin", nil
	}
	f, err := os.Open(arg)
	if err != nil {
		return nil, "", fmt.Errorf("open input: %w", err)
	}
	return f, arg, nil
}

func scanText(sc *detectors.Scanner, in io.Reader, name string, asJSON bool, stdout, stderr io.Writer) int {
	data, err := io.ReadAll(io.LimitReader(in, maxScanLine+1))
	if err != nil {
		fmt.Fprintf(stderr, "mcpgate scan: read %s: %v\n", name, err)
		return 2
	}
	if len(data) > maxScanLine {
		fmt.Fprintf(stderr, "mcpgate scan: %s is larger than %d bytes\n", name, maxScanLine)
		return 2
	}
	findings := sc.Scan(string(data))
	if asJSON {
		if findings == nil {
			findings = []detectors.Finding{}
		}
		enc := json.NewEncoder(stdout)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(findings); err != nil {
			fmt.Fprintf(stderr, "mcpgate scan: write: %v\n", err)
			return 2
		}
	} else {
		for _, f := range findings {
			fmt.Fprintf(stdout, "%s:%d-%d: %s %s (%s): %s\n", name, f.Start, f.End, f.Severity, f.Rule, f.Category, f.Excerpt)
		}
	}
	if detectors.MaxSeverity(findings) >= detectors.High {
		return 1
	}
	return 0
}

func scanLines(sc *detectors.Scanner, in io.Reader, name string, stdout, stderr io.Writer) int {
	r := bufio.NewReaderSize(in, 1<<20)
	w := bufio.NewWriter(stdout)
	defer w.Flush()
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false) // excerpts like <IMPORTANT> stay readable
	start := time.Now()
	var lines, nFindings, high, bad int
	for lineNo := 1; ; lineNo++ {
		line, err := readLine(r)
		if errors.Is(err, io.EOF) && len(line) == 0 {
			break
		}
		if err != nil && !errors.Is(err, io.EOF) {
			fmt.Fprintf(stderr, "mcpgate scan: %s:%d: %v\n", name, lineNo, err)
			bad++
			if errors.Is(err, errLineTooLong) {
				continue
			}
			break
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		lines++
		out := scanLine(sc, line)
		if out.Error != "" {
			bad++
			fmt.Fprintf(stderr, "mcpgate scan: %s:%d: %s\n", name, lineNo, out.Error)
		}
		nFindings += len(out.Findings)
		if detectors.MaxSeverity(out.Findings) >= detectors.High {
			high++
		}
		if err := enc.Encode(out); err != nil {
			fmt.Fprintf(stderr, "mcpgate scan: write: %v\n", err)
			return 2
		}
	}
	fmt.Fprintf(stderr, "mcpgate scan: %d inputs, %d findings, %d inputs with a high finding, %d errors, %s\n",
		lines, nFindings, high, bad, time.Since(start).Round(time.Millisecond))
	switch {
	case bad > 0:
		return 2
	case high > 0:
		return 1
	}
	return 0
}

// scanLine scans one JSON line; a bad line yields an output line with an
// error, so outputs stay one per input and in order.
func scanLine(sc *detectors.Scanner, line []byte) scanOutput {
	var in scanInput
	if err := json.Unmarshal(line, &in); err != nil {
		return scanOutput{ID: json.RawMessage("null"), Findings: []detectors.Finding{}, Error: fmt.Sprintf("invalid JSON: %v", err)}
	}
	out := scanOutput{ID: in.ID, Findings: []detectors.Finding{}}
	if len(out.ID) == 0 {
		out.ID = json.RawMessage("null")
	}
	switch {
	case in.Text != nil && in.Tool == nil:
		if f := sc.Scan(*in.Text); f != nil {
			out.Findings = f
		}
	case in.Tool != nil && in.Text == nil:
		f, err := sc.ScanTool(in.Tool)
		if err != nil {
			out.Error = fmt.Sprintf("tool: %v", err)
		} else if f != nil {
			out.Findings = f
		}
	default:
		out.Error = `want exactly one of "text" or "tool"`
	}
	return out
}

var errLineTooLong = fmt.Errorf("line longer than %d bytes skipped", maxScanLine)

// readLine reads one line of any length up to maxScanLine, discarding the
// rest of a longer one.
func readLine(r *bufio.Reader) ([]byte, error) {
	var line []byte
	for {
		chunk, err := r.ReadSlice('\n')
		if len(line)+len(chunk) <= maxScanLine {
			line = append(line, chunk...)
		} else {
			line = line[:0]
			for errors.Is(err, bufio.ErrBufferFull) {
				_, err = r.ReadSlice('\n')
			}
			return nil, errLineTooLong
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		return line, err
	}
}
