// Command backend is the load test's MCP server: the example server
// (package mcpserver) plus a bench_text tool returning text of a requested
// size and kind (real prose, code, JSON records, markup from the training
// corpus, or prose carrying one injection), so the harness can vary the
// output without the example's tool list (which tests pin) changing.
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
	"sync"
	"sync/atomic"
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
	Size int    `json:"size" jsonschema:"length of the text in bytes"`
	Kind string `json:"kind,omitempty" jsonschema:"repeat (default), prose, code, json, markup or attack"`
}

// textTool serves bench_text, building each (kind, size, variant) text once.
type textTool struct {
	corpus *texts // nil: only kindRepeat
	mu     sync.Mutex
	built  map[string]string
	calls  atomic.Int64
}

func (tt *textTool) call(_ context.Context, _ *mcp.CallToolRequest, in textIn) (*mcp.CallToolResult, any, error) {
	if in.Size < len(endMarker)+1 || in.Size > maxSize {
		return nil, nil, fmt.Errorf("size must be between %d and %d", len(endMarker)+1, maxSize)
	}
	if in.Kind == "" {
		in.Kind = kindRepeat
	}
	if in.Kind != kindRepeat && tt.corpus == nil {
		return nil, nil, fmt.Errorf("kind %q needs the backend started with -corpus", in.Kind)
	}
	v := int(tt.calls.Add(1) % variants)
	key := fmt.Sprintf("%s/%d/%d", in.Kind, in.Size, v)
	tt.mu.Lock()
	text, ok := tt.built[key]
	tt.mu.Unlock()
	if !ok {
		var err error
		if text, err = tt.corpus.build(in.Kind, in.Size, v); err != nil {
			return nil, nil, err
		}
		tt.mu.Lock()
		tt.built[key] = text
		tt.mu.Unlock()
	}
	return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: text}}}, nil, nil
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "listen address")
	corpus := flag.String("corpus", "", "training corpus folder (benign.jsonl, attacks.jsonl) for kinds other than repeat")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	tt := &textTool{built: map[string]string{}}
	if *corpus != "" {
		var err error
		if tt.corpus, err = loadTexts(*corpus); err != nil {
			fmt.Fprintln(os.Stderr, "backend:", err)
			os.Exit(1)
		}
	}
	if err := run(ctx, *addr, tt); err != nil {
		fmt.Fprintln(os.Stderr, "backend:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, addr string, tt *textTool) error {
	b := mcpserver.NewBackend()
	mcp.AddTool(b.Server(), &mcp.Tool{Name: "bench_text", Description: "Return text of the given size and kind."}, tt.call)
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
