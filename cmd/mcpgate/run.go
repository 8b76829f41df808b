package main

import (
	"context"
	"fmt"
	"io"
)

const usage = `usage: mcpgate <command> [flags]

commands:
  serve   run the Envoy ext_proc service
  run     run a local gateway (Envoy + mcpgate) in front of an MCP server
  scan    scan a text or JSON lines with the detectors
  pin     pin a server's tools into a lockfile, check or update it
  audit   grade a server's tools: the MCP Score, for people and CI
  report  summarise an audit trail: top rules and tools, what active mode blocks
  help    show this help

Run "mcpgate <command> --help" or "mcpgate help <command>" for a command's flags.
`

// Run executes one mcpgate command and returns the process exit code:
// 0 success, 1 a finding or failure the command reports, 2 usage or
// configuration errors.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "serve":
		return serveIO(ctx, args[1:], stdout, stderr, nil)
	case "scan":
		return scan(args[1:], stdin, stdout, stderr)
	case "pin":
		return pin(ctx, args[1:], stdout, stderr)
	case "audit":
		return audit(ctx, args[1:], stdout, stderr)
	case "report":
		return report(args[1:], stdin, stdout, stderr)
	case "run":
		return gateway(ctx, args[1:], stdout, stderr)
	case "help", "-h", "--help":
		if len(args) > 1 && args[0] == "help" && args[1] != "help" { // mcpgate help CMD
			return Run(ctx, []string{args[1], "--help"}, stdin, stdout, stderr)
		}
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "mcpgate: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
}
