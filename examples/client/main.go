// Command client is a one-shot MCP client (official Go SDK) for trying the
// demo stack: it lists the tools it is shown and calls the ones named on the
// command line, printing what comes back, gateway errors included.
//
//	go run ./examples/client -url http://127.0.0.1:10000/mcp echo delete_files
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "client:", err)
		os.Exit(1)
	}
}

func run(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("client", flag.ContinueOnError)
	url := fs.String("url", "http://127.0.0.1:10000/mcp", "MCP endpoint (Envoy's listener in the demo)")
	text := fs.String("text", "hello from the client", "argument for echo; also used as url/path for other tools")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	client := mcp.NewClient(&mcp.Implementation{Name: "mcpgate-demo-client", Version: "0.1.0"}, nil)
	cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: *url}, nil)
	if err != nil {
		return fmt.Errorf("connect %s: %w", *url, err)
	}
	defer cs.Close()
	tools, err := cs.ListTools(ctx, nil)
	if err != nil {
		return fmt.Errorf("tools/list: %w", err)
	}
	names := make([]string, len(tools.Tools))
	schemas := map[string]any{}
	for i, t := range tools.Tools {
		names[i] = t.Name
		schemas[t.Name] = t.InputSchema
	}
	fmt.Fprintf(out, "tools: %s\n", strings.Join(names, ", "))
	for _, name := range fs.Args() {
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: arguments(schemas[name], *text)})
		if err != nil {
			fmt.Fprintf(out, "%s: error: %v\n", name, err)
			continue
		}
		for _, c := range res.Content {
			if tc, ok := c.(*mcp.TextContent); ok {
				fmt.Fprintf(out, "%s (isError=%v): %s\n", name, res.IsError, tc.Text)
			}
		}
	}
	return nil
}

// arguments fills the parameters a tool declares: strings with text,
// numbers with 1 and 2. A tool hidden by the gateway has no schema here, so
// it gets a plausible guess (the gateway rejects the call before arguments
// matter).
func arguments(schema any, text string) map[string]any {
	args := map[string]any{}
	props, _ := schemaProperties(schema)
	if props == nil {
		return map[string]any{"path": text}
	}
	n := 0
	for name, p := range props {
		if typ, _ := p.(map[string]any)["type"].(string); typ == "number" || typ == "integer" {
			n++
			args[name] = n
		} else if typ == "string" {
			args[name] = text
		}
	}
	return args
}

func schemaProperties(schema any) (map[string]any, bool) {
	b, err := json.Marshal(schema)
	if err != nil {
		return nil, false
	}
	var s struct {
		Properties map[string]any `json:"properties"`
	}
	if json.Unmarshal(b, &s) != nil {
		return nil, false
	}
	return s.Properties, true
}
