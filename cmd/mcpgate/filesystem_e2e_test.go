package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// filesystemPrefix is where `make server-filesystem` installs the npm
// reference filesystem server, a stdio-only server.
const filesystemPrefix = "../../.cache/npm-filesystem"

// filesystemServer returns the command line of server-filesystem serving
// dir, as people run it: through npx (here from the install, offline),
// which runs node as its own child. Without npx or the package the test
// fails in CI and skips locally, unless MCPGATE_SKIP_SERVER_FILESYSTEM=1
// skips it.
func filesystemServer(t *testing.T, dir string) []string {
	t.Helper()
	prefix, _ := filepath.Abs(filesystemPrefix)
	npx, err := exec.LookPath("npx")
	if err == nil {
		_, err = os.Stat(filepath.Join(prefix, "node_modules", "@modelcontextprotocol", "server-filesystem", "package.json"))
	}
	if err != nil {
		msg := fmt.Sprintf("server-filesystem not runnable (%v): run `make server-filesystem` (needs node and npm)", err)
		switch {
		case os.Getenv("MCPGATE_SKIP_SERVER_FILESYSTEM") == "1":
			t.Skip("MCPGATE_SKIP_SERVER_FILESYSTEM=1: " + msg)
		case os.Getenv("CI") != "":
			t.Fatal(msg + " (or set MCPGATE_SKIP_SERVER_FILESYSTEM=1)")
		}
		t.Skip(msg)
	}
	return []string{npx, "--offline", "--prefix", prefix, "mcp-server-filesystem", dir}
}

// filesystemView is what a client sees of server-filesystem.
type filesystemView struct {
	Tools   []string
	Allowed string // list_allowed_directories
	Listing string // list_directory
	Read    string // read_text_file of notes.txt
	Write   string // write_file of new.txt: its text, or the error
}

func exerciseFilesystem(ctx context.Context, t *testing.T, tr mcp.Transport, dir string) filesystemView {
	t.Helper()
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "filesystem-e2e", Version: "0"}, nil).Connect(ctx, tr, nil)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer cs.Close()
	call := func(name string, args map[string]any) string {
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: args})
		if err != nil {
			return "error: " + err.Error()
		}
		b, _ := json.Marshal(res.Content)
		return string(b)
	}
	if len(processesNaming(t, dir)) == 0 {
		t.Error("no server process names the directory while it serves: the leak check would prove nothing")
	}
	return filesystemView{
		Tools:   toolNames(ctx, t, cs),
		Allowed: call("list_allowed_directories", map[string]any{}),
		Listing: call("list_directory", map[string]any{"path": dir}),
		Read:    call("read_text_file", map[string]any{"path": filepath.Join(dir, "notes.txt")}),
		Write:   call("write_file", map[string]any{"path": filepath.Join(dir, "new.txt"), "content": "written"}),
	}
}

// TestRunStdioFilesystem: the npm reference filesystem server, stdio
// only, through `mcpgate run -- node …` with the Go SDK client. Passive,
// everything equals a direct stdio run; active, the allowlist hides
// write_file and refuses it, and no file is written.
func TestRunStdioFilesystem(t *testing.T) {
	envoyBinary(t)
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	dir, err := filepath.EvalSymlinks(t.TempDir()) // the server resolves symlinks in paths
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("meeting at noon\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	command := filesystemServer(t, dir)
	allowed := []string{"list_allowed_directories", "list_directory", "read_text_file"}
	policy := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(policy, []byte("backends:\n  default:\n    allowed_tools: ["+strings.Join(allowed, ", ")+"]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	want := exerciseFilesystem(ctx, t, &mcp.CommandTransport{Command: exec.Command(command[0], command[1:]...)}, dir)
	if !strings.Contains(want.Read, "meeting at noon") || !strings.Contains(want.Listing, "notes.txt") || len(want.Tools) < 10 {
		t.Fatalf("direct run: %+v", want)
	}
	if err := os.Remove(filepath.Join(dir, "new.txt")); err != nil {
		t.Fatalf("the direct run wrote no file: %v", err)
	}
	for _, mode := range []string{"passive", "active"} {
		t.Run(mode, func(t *testing.T) {
			gw, stop := startGateway(t, append([]string{"--listen", "127.0.0.1:0", "--config", policy, "--mode", mode, "--"}, command...)...)
			got := exerciseFilesystem(ctx, t, &mcp.StreamableClientTransport{Endpoint: gw, MaxRetries: -1}, dir)
			t.Logf("%s: %+v", mode, got)
			_, statErr := os.Stat(filepath.Join(dir, "new.txt"))
			os.Remove(filepath.Join(dir, "new.txt"))
			expect := want
			if mode == "active" {
				expect.Tools = allowed
				expect.Write = got.Write
				if !strings.Contains(got.Write, "not allowed by policy") || statErr == nil {
					t.Errorf("active: write_file answered %q, file written: %v; want a refusal and no file", got.Write, statErr == nil)
				}
			} else if statErr != nil {
				t.Errorf("passive: write_file wrote no file: %v", statErr)
			}
			if !slices.Equal(got.Tools, expect.Tools) || got.Allowed != expect.Allowed || got.Listing != expect.Listing ||
				got.Read != expect.Read || got.Write != expect.Write {
				t.Errorf("through the gateway:\n%+v\nwant\n%+v", got, expect)
			}
			code, logs := stop()
			// After initialized the server asks the client for its roots
			// (roots/list, server to client, outside any call) and logs
			// the empty answer: that round trip went through the gateway.
			if !strings.Contains(logs, "[npx] No valid root directories provided by client") {
				t.Errorf("no roots/list round trip:\n%s", logs)
			}
			if code != 0 || !strings.Contains(logs, "[npx] Secure MCP Filesystem Server running on stdio") {
				t.Errorf("exit %d, want 0 and the server's stderr prefixed [npx]:\n%s", code, logs)
			}
			// npx's node child is stopped too (the signal goes to the
			// process group), not left holding the directory.
			if left := processesNaming(t, dir); len(left) > 0 {
				t.Errorf("processes left after stop: %v", left)
			}
		})
	}
}

// processesNaming lists the processes whose command line contains s.
func processesNaming(t *testing.T, s string) []string {
	t.Helper()
	var found []string
	dirs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, d := range dirs {
		b, err := os.ReadFile(d)
		if err == nil && strings.Contains(string(b), s) {
			found = append(found, filepath.Base(filepath.Dir(d))+": "+strings.ReplaceAll(string(b), "\x00", " "))
		}
	}
	return found
}
