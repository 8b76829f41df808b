package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/mcpgate/mcpgate/detectors"
	"github.com/mcpgate/mcpgate/mcpclient"
	"github.com/mcpgate/mcpgate/pinning"
)

const pinUsage = `usage: mcpgate pin [flags] URL -o FILE       pin a server's tools into a lockfile
       mcpgate pin [flags] --check FILE [URL]  compare the server with the lockfile
       mcpgate pin [flags] --update FILE [URL] re-approve: rewrite the lockfile from the server

URL is the server's MCP endpoint (Streamable HTTP; the legacy HTTP+SSE
endpoint with --transport sse); --check and --update default to the URL
recorded in the lockfile. --check prints one change per line
(severity kind tool: detail). Exit 0: no change at or above --fail-on;
1: such a change; 2: error (connection, bad lockfile, flags).

`

// pin implements `mcpgate pin`.
func pin(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("mcpgate pin", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("o", "", "write a new lockfile to `FILE`")
	check := fs.String("check", "", "compare the server with lockfile `FILE`")
	update := fs.String("update", "", "rewrite lockfile `FILE` from the server, printing the changes accepted")
	failOn := fs.String("fail-on", "high", "with --check, the lowest change severity that exits 1: low, medium, high")
	timeout := fs.Duration("timeout", 30*time.Second, "for connecting and listing tools")
	transport := fs.String("transport", mcpclient.Streamable, "streamable, sse (legacy HTTP+SSE) or auto (Streamable HTTP, then SSE)")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), pinUsage)
		fs.PrintDefaults()
	}
	pos, err := parseInterspersed(fs, args, stdout)
	if err != nil {
		return exitCode(err)
	}
	modes := 0
	for _, f := range []string{*out, *check, *update} {
		if f != "" {
			modes++
		}
	}
	if modes != 1 || len(pos) > 1 || (*out != "" && len(pos) != 1) {
		fs.Usage()
		return 2
	}
	if !mcpclient.ValidTransport(*transport) {
		fmt.Fprintf(stderr, "mcpgate pin: --transport %q: want auto, streamable or sse\n", *transport)
		return 2
	}
	threshold, err := detectors.ParseSeverity(*failOn)
	if err != nil {
		fmt.Fprintf(stderr, "mcpgate pin: --fail-on: %v\n", err)
		return 2
	}
	url := ""
	if len(pos) == 1 {
		url = pos[0]
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	p := pinner{url: url, transport: *transport, stdout: stdout, stderr: stderr}
	switch {
	case *out != "":
		err = p.create(ctx, *out)
	case *check != "":
		var worst detectors.Severity
		worst, err = p.check(ctx, *check)
		if err == nil && worst >= threshold {
			return 1
		}
	default:
		err = p.update(ctx, *update)
	}
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("%w (--timeout %s)", err, *timeout)
		}
		fmt.Fprintf(stderr, "mcpgate pin: %v\n", err)
		return 2
	}
	return 0
}

type pinner struct {
	url, transport string
	stdout, stderr io.Writer
}

func (p pinner) create(ctx context.Context, file string) error {
	lf, err := fetchPins(ctx, p.url, p.transport)
	if err != nil {
		return err
	}
	lf.Created = time.Now().UTC()
	if err := pinning.WriteLockfile(file, lf); err != nil {
		return err
	}
	fmt.Fprintf(p.stderr, "mcpgate pin: %s: %s, fingerprint %s, written to %s\n", p.url, counts(lf), lf.Fingerprint, file)
	return nil
}

// check prints the changes between the lockfile and the live server and
// returns the highest severity among them.
func (p pinner) check(ctx context.Context, file string) (detectors.Severity, error) {
	lf, live, changes, err := p.compare(ctx, file)
	if err != nil {
		return 0, err
	}
	printChanges(p.stdout, changes)
	worst := pinning.MaxSeverity(changes)
	fmt.Fprintf(p.stderr, "mcpgate pin: %s against %s: %d changes (highest %s), fingerprint %s → %s\n",
		p.url, file, len(changes), severityText(worst), lf.Fingerprint, live.Fingerprint)
	return worst, nil
}

func (p pinner) update(ctx context.Context, file string) error {
	lf, live, changes, err := p.compare(ctx, file)
	if err != nil {
		return err
	}
	printChanges(p.stdout, changes)
	if len(changes) == 0 && pinning.SamePins(lf, live) && lf.Server == p.url {
		// Rewriting only the date would make a diff with nothing to review.
		fmt.Fprintf(p.stderr, "mcpgate pin: %s unchanged, %s left as it is\n", p.url, file)
		return nil
	}
	live.Created = time.Now().UTC()
	if err := pinning.WriteLockfile(file, live); err != nil {
		return err
	}
	fmt.Fprintf(p.stderr, "mcpgate pin: %d changes accepted, %s, fingerprint %s, written to %s\n",
		len(changes), counts(live), live.Fingerprint, file)
	return nil
}

// compare reads the lockfile, then lists the server (the lockfile's own
// URL unless one was given).
func (p *pinner) compare(ctx context.Context, file string) (pinning.Lockfile, pinning.Lockfile, []pinning.Change, error) {
	lf, err := pinning.ReadLockfile(file)
	if err != nil {
		return pinning.Lockfile{}, pinning.Lockfile{}, nil, err
	}
	if p.url == "" {
		p.url = lf.Server
	}
	if p.url == "" {
		return pinning.Lockfile{}, pinning.Lockfile{}, nil, fmt.Errorf("%s records no server URL; give one", file)
	}
	live, err := fetchPins(ctx, p.url, p.transport)
	if err != nil {
		return pinning.Lockfile{}, pinning.Lockfile{}, nil, err
	}
	return lf, live, pinning.DiffLockfiles(lf, live), nil
}

// counts says what a lockfile pins, for the summary line.
func counts(lf pinning.Lockfile) string {
	out := fmt.Sprintf("%d tools", len(lf.Tools))
	if lf.Prompts != nil {
		out += fmt.Sprintf(", %d prompts", len(lf.Prompts.Tools))
	}
	if lf.ResourceTemplates != nil {
		out += fmt.Sprintf(", %d resource templates", len(lf.ResourceTemplates.Tools))
	}
	return out
}

func printChanges(w io.Writer, changes []pinning.Change) {
	for _, c := range changes {
		if c.Tool == "" {
			fmt.Fprintf(w, "%s %s: %s\n", c.Severity, c.Kind, c.Detail)
		} else {
			fmt.Fprintf(w, "%s %s %s: %s\n", c.Severity, c.Kind, c.Tool, c.Detail)
		}
	}
}

func severityText(s detectors.Severity) string {
	if s == 0 {
		return "none"
	}
	return s.String()
}

// fetchPins lists the server (mcpclient) and pins what it offers: every
// tool, the instructions and, when offered, prompts and resource templates.
func fetchPins(ctx context.Context, url, transport string) (pinning.Lockfile, error) {
	var lf pinning.Lockfile
	var listErr error
	s, err := mcpclient.Connect(ctx, url, transport, mcpclient.Options{Name: "mcpgate-pin", Methods: mcpclient.PinMethods(),
		Ready: func(s *mcpclient.Session) error {
			l, err := s.List(ctx, false)
			if err == nil {
				lf, err = l.Lockfile()
			}
			listErr = err
			return err
		}})
	if err != nil && listErr != nil && transport != mcpclient.Auto {
		return pinning.Lockfile{}, listErr // connected, but the lists could not be read
	}
	if err != nil {
		return pinning.Lockfile{}, fmt.Errorf("connect %s: %w", url, err)
	}
	s.Close()
	return lf, nil
}
