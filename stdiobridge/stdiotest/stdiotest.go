// Package stdiotest is a small stdio MCP server for tests of the stdio
// bridge and of `mcpgate run -- CMD`: a test binary re-executes itself
// with EnvVar set and calls MaybeRun from init (or TestMain).
//
// It logs "stdiotest: ready" and "stdiotest: call TOOL" on stderr, so a
// test can tell whether a call reached it, and its tools exercise every
// direction of the transport: a plain result, progress and log
// notifications, sampling and roots requests to the client, and exiting.
package stdiotest

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// EnvVar, set to "1", makes MaybeRun serve stdio and exit. Set to "exit:N"
// the process writes a line to stderr and exits with status N at once;
// set to "kill" it kills itself with SIGKILL.
const EnvVar = "MCPGATE_STDIOTEST_SERVER"

// MaybeRun serves stdio and exits if EnvVar asks for it; else it returns.
func MaybeRun() {
	v := os.Getenv(EnvVar)
	switch {
	case v == "1":
		fmt.Fprintf(os.Stderr, "stdiotest: ready pid %d\n", os.Getpid())
		err := NewServer().Run(context.Background(), &mcp.StdioTransport{})
		if err != nil {
			fmt.Fprintf(os.Stderr, "stdiotest: %v\n", err)
		}
		os.Exit(0)
	case v == "kill":
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {}
	case strings.HasPrefix(v, "exit:"):
		code, _ := strconv.Atoi(strings.TrimPrefix(v, "exit:"))
		fmt.Fprintf(os.Stderr, "stdiotest: exiting with %d\n", code)
		os.Exit(code)
	}
}

type textIn struct {
	Text string `json:"text" jsonschema:"the text"`
}

type codeIn struct {
	Code int `json:"code" jsonschema:"the exit status"`
}

type pathIn struct {
	Path string `json:"path" jsonschema:"a path"`
}

// NewServer is the server MaybeRun runs.
func NewServer() *mcp.Server {
	s := mcp.NewServer(&mcp.Implementation{Name: "stdiotest", Version: "0.1.0"}, nil)
	logged := func(name string) {
		fmt.Fprintf(os.Stderr, "stdiotest: call %s\n", name)
	}
	mcp.AddTool(s, &mcp.Tool{Name: "echo", Description: "Return the text unchanged."},
		func(_ context.Context, _ *mcp.CallToolRequest, in textIn) (*mcp.CallToolResult, any, error) {
			logged("echo")
			return text(in.Text), nil, nil
		})
	mcp.AddTool(s, &mcp.Tool{Name: "progress", Description: "Report progress and a log message, then finish."},
		func(ctx context.Context, req *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, any, error) {
			logged("progress")
			if tok := req.Params.GetProgressToken(); tok != nil {
				for i := 1; i <= 2; i++ {
					if err := req.Session.NotifyProgress(ctx, &mcp.ProgressNotificationParams{
						ProgressToken: tok, Progress: float64(i), Total: 2, Message: fmt.Sprintf("step %d", i)}); err != nil {
						return nil, nil, err
					}
				}
			}
			if err := req.Session.Log(ctx, &mcp.LoggingMessageParams{Level: "info", Data: "halfway"}); err != nil {
				return nil, nil, err
			}
			return text("done"), nil, nil
		})
	mcp.AddTool(s, &mcp.Tool{Name: "sample", Description: "Ask the client's model and return its answer."},
		func(ctx context.Context, req *mcp.CallToolRequest, in textIn) (*mcp.CallToolResult, any, error) {
			logged("sample")
			res, err := req.Session.CreateMessage(ctx, &mcp.CreateMessageParams{MaxTokens: 10,
				Messages: []*mcp.SamplingMessage{{Role: "user", Content: &mcp.TextContent{Text: in.Text}}}})
			if err != nil {
				return nil, nil, err
			}
			t, _ := res.Content.(*mcp.TextContent)
			if t == nil {
				return nil, nil, fmt.Errorf("sampling answered %T", res.Content)
			}
			return text("model said: " + t.Text), nil, nil
		})
	mcp.AddTool(s, &mcp.Tool{Name: "roots", Description: "List the client's roots."},
		func(ctx context.Context, req *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, any, error) {
			logged("roots")
			res, err := req.Session.ListRoots(ctx, nil)
			if err != nil {
				return nil, nil, err
			}
			var uris []string
			for _, r := range res.Roots {
				uris = append(uris, r.URI)
			}
			return text(strings.Join(uris, " ")), nil, nil
		})
	mcp.AddTool(s, &mcp.Tool{Name: "delete_files", Description: "Pretend to delete files under a path."},
		func(_ context.Context, _ *mcp.CallToolRequest, in pathIn) (*mcp.CallToolResult, any, error) {
			logged("delete_files")
			return text("deleted nothing under " + in.Path), nil, nil
		})
	mcp.AddTool(s, &mcp.Tool{Name: "exit", Description: "Exit the server process with a status."},
		func(_ context.Context, _ *mcp.CallToolRequest, in codeIn) (*mcp.CallToolResult, any, error) {
			logged("exit")
			os.Exit(in.Code)
			return nil, nil, nil
		})
	return s
}

func text(s string) *mcp.CallToolResult {
	return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: s}}}
}
