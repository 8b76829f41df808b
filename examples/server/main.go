// Command server runs the example MCP backend (package mcpserver) over
// Streamable HTTP: SSE responses at /mcp, JSON responses at /mcp-json.
//
// It is the upstream that envoy/envoy.yaml routes to (127.0.0.1:8080).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/mcpgate/mcpgate/examples/mcpserver"
)

// shutdownGrace bounds how long open SSE streams may delay exit.
const shutdownGrace = 5 * time.Second

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "server:", err)
		os.Exit(1)
	}
}

// run serves until ctx is done, then shuts down gracefully.
func run(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "listen address")
	kind := fs.String("kind", "demo", "which server: demo, or benign, poisoned, leaky (for mcpgate audit)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	handler, err := handlerOf(*kind)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewJSONHandler(stderr, nil))

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	url := "http://" + ln.Addr().String()
	log.Info("listening", "sse_url", url+mcpserver.PathSSE, "json_url", url+mcpserver.PathJSON)

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}

	log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	// Shutdown waits for active requests, and an idle SSE stream never ends
	// by itself, so after the grace period close whatever is left.
	if err := srv.Shutdown(shutdownCtx); err != nil {
		log.Warn("forcing close", "error", err)
		srv.Close()
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

// handlerOf returns the server to run: the demo backend, or one of the
// servers graded in docs/benchmarks.md (MCP Score of the example servers).
func handlerOf(kind string) (http.Handler, error) {
	switch kind {
	case "demo":
		return mcpserver.NewBackend().Handler(), nil
	case "benign":
		return mcpserver.Handler(mcpserver.NewBenignServer()), nil
	case "poisoned":
		return mcpserver.Handler(mcpserver.NewPoisonedServer()), nil
	case "leaky":
		return mcpserver.Handler(mcpserver.NewLeakyServer(&http.Client{Timeout: 5 * time.Second})), nil
	}
	return nil, fmt.Errorf("-kind %q: want demo, benign, poisoned or leaky", kind)
}
