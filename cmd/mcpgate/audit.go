package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	auditlog "github.com/mcpgate/mcpgate/audit"
	"github.com/mcpgate/mcpgate/detectors"
	"github.com/mcpgate/mcpgate/detectors/score"
	"github.com/mcpgate/mcpgate/mcpclient"
	"github.com/mcpgate/mcpgate/pinning"
)

const auditUsage = `usage: mcpgate audit [flags] URL

Connects to the MCP server at URL (Streamable HTTP; legacy HTTP+SSE with
--transport sse, or automatically when Streamable HTTP fails), lists its
tools, prompts and resources and grades them: the MCP Score, 0-100, and a
grade (A >= 90, B >= 80, C >= 70, D >= 55, else F), with one finding per
problem. Progress goes to stderr, the report to stdout.

Exit 0: score at or above --fail-under and no baseline drift; 1: below it,
or drift at or above high from --baseline; 2: usage or connection error
(the report still says why, graded F).

`

// auditOptions are the parsed flags of `mcpgate audit`.
type auditOptions struct {
	url        string
	asJSON     bool
	sarif      bool
	failUnder  int
	baseline   string
	timeout    time.Duration
	transport  string
	behavioral bool
}

// audit implements `mcpgate audit`.
func audit(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := parseAuditFlags(args, stdout, stderr)
	if err != nil {
		return exitCode(err)
	}
	var baseline *pinning.Lockfile
	if o.baseline != "" {
		lf, err := pinning.ReadLockfile(o.baseline)
		if err != nil {
			fmt.Fprintf(stderr, "mcpgate audit: --baseline: %v\n", err)
			return 2
		}
		baseline = &lf
	}
	sc, err := detectors.New(detectors.Options{})
	if err != nil {
		fmt.Fprintf(stderr, "mcpgate audit: %v\n", err)
		return 2
	}
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	say := func(format string, args ...any) { fmt.Fprintf(stderr, "mcpgate audit: "+format+"\n", args...) }
	start := time.Now()
	c := collect(ctx, o.url, o.transport, say)
	defer c.close()
	s := c.surface
	if s.HandshakeError == "" {
		say("%s: %d tools, %d prompts, %d resources, %d resource templates (%s)", o.url, len(s.Tools), len(s.Prompts),
			len(s.Resources), len(s.ResourceTemplates), time.Since(start).Round(time.Millisecond))
		if o.behavioral {
			b, err := c.session.Exercise(ctx, s.Tools, say)
			if err != nil {
				fmt.Fprintf(stderr, "mcpgate audit: --behavioral: %v\n", err)
				return 2
			}
			s.Behavior = b
		}
	} else if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		s.HandshakeError += fmt.Sprintf(" (--timeout %s)", o.timeout)
	}
	res := auditResult{URL: o.url, Transport: c.transport, Report: score.Score(sc, s)}
	if baseline != nil && s.HandshakeError == "" {
		res.Baseline = o.baseline
		res.Drift = pinning.DiffLockfiles(*baseline, c.lockfile)
		if res.Drift == nil {
			res.Drift = []pinning.Change{}
		}
	}
	if err := writeAudit(stdout, o, res); err != nil {
		fmt.Fprintf(stderr, "mcpgate audit: write: %v\n", err)
		return 2
	}
	say("score %d, grade %s, %d findings", res.Report.Score, res.Report.Grade, len(res.Report.Findings))
	switch {
	case s.HandshakeError != "":
		return 2
	case res.Report.Score < o.failUnder:
		say("score %d is below --fail-under %d", res.Report.Score, o.failUnder)
		return 1
	case pinning.MaxSeverity(res.Drift) >= detectors.High:
		say("drift from %s at %s severity: the server changed since it was pinned", o.baseline, pinning.MaxSeverity(res.Drift))
		return 1
	}
	return 0
}

func parseAuditFlags(args []string, stdout, stderr io.Writer) (auditOptions, error) {
	var o auditOptions
	fs := flag.NewFlagSet("mcpgate audit", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.BoolVar(&o.asJSON, "json", false, "print the report as JSON")
	fs.BoolVar(&o.sarif, "sarif", false, "print the report as SARIF 2.1.0, for code-scanning UIs")
	fs.IntVar(&o.failUnder, "fail-under", 0, "exit 1 when the score is below `N` (0-100)")
	fs.StringVar(&o.baseline, "baseline", "", "lockfile `FILE` from mcpgate pin: exit 1 on drift at or above high")
	fs.DurationVar(&o.timeout, "timeout", 60*time.Second, "for the whole audit")
	fs.StringVar(&o.transport, "transport", mcpclient.Auto, "auto (Streamable HTTP, then legacy SSE), streamable or sse")
	fs.BoolVar(&o.behavioral, "behavioral", false, "also call read-only tools with canary URLs to catch exfiltration")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), auditUsage)
		fs.PrintDefaults()
	}
	pos, err := parseInterspersed(fs, args, stdout)
	if err != nil {
		return o, err
	}
	bad := ""
	switch {
	case len(pos) != 1:
		bad = "want exactly one URL"
	case o.asJSON && o.sarif:
		bad = "--json and --sarif exclude each other"
	case o.failUnder < 0 || o.failUnder > 100:
		bad = fmt.Sprintf("--fail-under %d: want 0-100", o.failUnder)
	case o.timeout <= 0:
		bad = "--timeout must be positive"
	case !mcpclient.ValidTransport(o.transport):
		bad = fmt.Sprintf("--transport %q: want auto, streamable or sse", o.transport)
	}
	if bad != "" {
		fmt.Fprintf(stderr, "mcpgate audit: %s\n\n", bad)
		fs.Usage()
		return o, errors.New(bad)
	}
	o.url = pos[0]
	return o, nil
}

// collected is what audit learned from a server.
type collected struct {
	surface   score.Surface
	lockfile  pinning.Lockfile // what `mcpgate pin` would write now
	transport string
	session   *mcpclient.Session // open until close; nil after a failed handshake
	close     func()
}

// progress prints one line for a slow step, on stderr.
type progress func(format string, args ...any)

// collect connects, lists everything the server offers (mcpclient) and
// probes its error handling. A failed handshake is not an error: it is in
// the surface, so it can be reported and scored F.
func collect(ctx context.Context, url, transport string, say progress) *collected {
	c := &collected{close: func() {}}
	s, err := mcpclient.Connect(ctx, url, transport, mcpclient.Options{
		Name: "mcpgate-audit", Methods: mcpclient.AuditMethods(), Progress: say,
		// --behavioral calls tools, which may wait on server requests
		// (roots/list) sent on the standalone stream.
		StandaloneSSE: true,
		Ready:         func(s *mcpclient.Session) error { return c.list(ctx, s, say) },
	})
	if err != nil {
		return &collected{surface: score.Surface{HandshakeError: err.Error()}, close: func() {}}
	}
	c.transport, c.session, c.close = s.Transport, s, func() { s.Close() }
	return c
}

// list fills the surface and the live lockfile from one listing.
func (c *collected) list(ctx context.Context, s *mcpclient.Session, say progress) error {
	if res := s.InitializeResult(); res != nil && res.ServerInfo != nil {
		say("initialized %q %q, protocol %s; listing", auditlog.Truncate(res.ServerInfo.Name, 64), auditlog.Truncate(res.ServerInfo.Version, 32), res.ProtocolVersion)
	}
	l, err := s.List(ctx, true)
	if err != nil {
		return err
	}
	if c.surface, err = l.Surface(); err != nil {
		return err
	}
	if c.lockfile, err = l.Lockfile(); err != nil {
		return err
	}
	if s.Transport == mcpclient.Streamable {
		c.surface.UnknownMethod = s.ProbeUnknownMethod(ctx)
	}
	return nil
}
