package main

// The stdio form of `mcpgate run`: `mcpgate run [flags] -- CMD ARGS…`
// starts the stdio MCP server through package stdiobridge on a loopback
// port and puts Envoy and mcpgate in front of it as of any upstream.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"path/filepath"

	"github.com/mcpgate/mcpgate/stdiobridge"
)

// stdioBackend is the bridge and the loopback listener Envoy's upstream
// points at.
type stdioBackend struct {
	bridge *stdiobridge.Bridge
	l      net.Listener
	url    string // the upstream URL for Envoy
	label  string // what the gateway line names: the command
	done   chan error
	stderr io.Writer
}

// newStdioBackend checks the command and binds the bridge's port; nothing
// runs before start.
func newStdioBackend(command []string, f gatewayFlags, stderr io.Writer) (*stdioBackend, error) {
	hosts, err := allowedHosts(f.listen, f.publicURL)
	if err != nil {
		return nil, err
	}
	log := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: f.serve.logLevel}))
	b, err := stdiobridge.New(stdiobridge.Config{
		Command:      command,
		Logger:       log,
		StderrPrefix: "[" + filepath.Base(command[0]) + "] ",
		AllowedHosts: hosts,
	})
	if err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	// The gateway line names the command, not its arguments: they may
	// carry a token.
	label := "stdio: " + command[0]
	if len(command) > 1 {
		label += " …"
	}
	return &stdioBackend{bridge: b, l: l, url: "http://" + l.Addr().String() + "/mcp",
		label: label, done: make(chan error, 1), stderr: stderr}, nil
}

// start serves until ctx ends; a server that exits by itself calls stop,
// which ends the gateway.
func (s *stdioBackend) start(ctx context.Context, stop context.CancelFunc) {
	go func() {
		err := s.bridge.Serve(ctx, s.l)
		s.done <- err
		if err != nil {
			stop()
		}
	}()
}

// exitCode waits for the bridge and returns the server's status if it
// exited by itself, else code.
func (s *stdioBackend) exitCode(code int) int {
	err := <-s.done
	var ee *stdiobridge.ExitError
	switch {
	case errors.As(err, &ee):
		fmt.Fprintf(s.stderr, "mcpgate run: %v (status %d)\n", ee, ee.Status)
		return ee.Status
	case err != nil:
		fmt.Fprintf(s.stderr, "mcpgate run: %v\n", err)
		return 1
	}
	return code
}

// allowedHosts are the Host values the bridge accepts besides loopback
// (its DNS-rebinding guard, see stdiobridge.Config): the public URL's
// host, the listen host, and for a listener on every interface each local
// address.
func allowedHosts(listen, publicURL string) ([]string, error) {
	var hosts []string
	if publicURL != "" {
		u, err := url.Parse(publicURL)
		if err != nil || u.Host == "" {
			return nil, fmt.Errorf("--public-url %q: not an absolute URL", publicURL)
		}
		hosts = append(hosts, u.Host, u.Hostname())
	}
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return nil, fmt.Errorf("--listen: %w", err)
	}
	if ip := net.ParseIP(host); host != "" && (ip == nil || !ip.IsUnspecified()) {
		return append(hosts, host), nil
	}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil, err
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok {
			hosts = append(hosts, n.IP.String())
		}
	}
	return hosts, nil
}
