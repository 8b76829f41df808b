package main

import (
	"context"

	auditlog "github.com/mcpgate/mcpgate/audit"
	"github.com/mcpgate/mcpgate/detectors/score"
	"github.com/mcpgate/mcpgate/mcpclient"
	"github.com/mcpgate/mcpgate/pinning"
)

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
		Name: "mcpgate-audit", Methods: mcpclient.AuditMethods, Progress: say,
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
