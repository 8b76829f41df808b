package stdiobridge

import (
	"context"
	"os"
	"os/exec"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpgate/mcpgate/stdiobridge/stdiotest"
)

// BenchmarkEcho is one tools/call round trip to the stdiotest server,
// directly over stdio and through the bridge over Streamable HTTP: the
// bridge's own cost per call.
func BenchmarkEcho(b *testing.B) {
	b.Setenv(stdiotest.EnvVar, "1")
	direct := func(*testing.B) mcp.Transport {
		return &mcp.CommandTransport{Command: exec.Command(os.Args[0], "-test.run=^$", "-test.bench=^$")}
	}
	bridged := func(b *testing.B) mcp.Transport {
		tb := startBridge(b, "1")
		return &mcp.StreamableClientTransport{Endpoint: tb.url, MaxRetries: -1}
	}
	for _, bc := range []struct {
		name string
		tr   func(*testing.B) mcp.Transport
	}{{"direct", direct}, {"bridge", bridged}} {
		b.Run(bc.name, func(b *testing.B) {
			ctx := context.Background()
			cs, err := mcp.NewClient(&mcp.Implementation{Name: "bench", Version: "0"}, nil).
				Connect(ctx, bc.tr(b), &mcp.ClientSessionOptions{ProtocolVersion: "2025-11-25"})
			if err != nil {
				b.Fatal(err)
			}
			defer cs.Close()
			params := &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"text": "hi"}}
			b.ResetTimer()
			for b.Loop() {
				if _, err := cs.CallTool(ctx, params); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
