// Command backend is the load test's MCP server: the example server
// (package mcpserver) plus a bench_text tool returning clean text of a
// requested size, so the harness can vary the output size without the
// example's tool list (which tests pin) changing.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpgate/mcpgate/examples/mcpserver"
)

// endMarker ends every bench_text output, so the load generator can check
// cheaply that a response is complete and was not replaced.
const endMarker = "[end of bench text]"

// maxSize keeps outputs below mcpgate's default max_body_bytes (4 MiB).
const maxSize = 1 << 20

// paragraph is prose no detector reports: numbers, addresses and
// imperatives are absent on purpose.
const paragraph = "The quarterly report shows revenue grew in every region, led by strong demand for the new storage line. "

type textIn struct {
	Size int `json:"size" jsonschema:"length of the text in bytes"`
}

func benchText(_ context.Context, _ *mcp.CallToolRequest, in textIn) (*mcp.CallToolResult, any, error) {
	if in.Size < len(endMarker) || in.Size > maxSize {
		return nil, nil, fmt.Errorf("size must be between %d and %d", len(endMarker), maxSize)
	}
	n := in.Size - len(endMarker)
	text := strings.Repeat(paragraph, n/len(paragraph)+1)[:n] + endMarker
	return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: text}}}, nil, nil
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "listen address")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *addr); err != nil {
		fmt.Fprintln(os.Stderr, "backend:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, addr string) error {
	b := mcpserver.NewBackend()
	mcp.AddTool(b.Server(), &mcp.Tool{Name: "bench_text", Description: "Return clean text of the given size."}, benchText)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{Handler: b.Handler(), ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		srv.Close()
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}
