package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/detectors/score"
)

// everythingScript is where `make server-everything` installs the npm
// reference server.
const everythingScript = "../../.cache/npm/node_modules/@modelcontextprotocol/server-everything/dist/index.js"

// startEverything runs server-everything with one of its HTTP transports
// ("streamableHttp" serves /mcp, "sse" serves /sse) on a free port and
// returns its base URL. Without node or the package the test fails in CI
// and skips locally, unless MCPGATE_SKIP_SERVER_EVERYTHING=1 skips it.
func startEverything(t *testing.T, transport string) string {
	t.Helper()
	script, _ := filepath.Abs(everythingScript)
	node, err := exec.LookPath("node")
	if err == nil {
		_, err = os.Stat(script)
	}
	if err != nil {
		msg := fmt.Sprintf("server-everything not runnable (%v): run `make server-everything` (needs node and npm)", err)
		switch {
		case os.Getenv("MCPGATE_SKIP_SERVER_EVERYTHING") == "1":
			t.Skip("MCPGATE_SKIP_SERVER_EVERYTHING=1: " + msg)
		case os.Getenv("CI") != "":
			t.Fatal(msg + " (or set MCPGATE_SKIP_SERVER_EVERYTHING=1)")
		}
		t.Skip(msg)
	}
	port := freePort(t)
	cmd := exec.Command(node, script, transport)
	// It listens on $PORT (default 3001) and logs "listening on port".
	cmd.Env = append(os.Environ(), fmt.Sprintf("PORT=%d", port))
	var logs syncBuffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("start server-everything: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("server-everything output:\n%s", logs.String())
		}
	})
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return "http://" + addr
		}
		if time.Now().After(deadline) {
			t.Fatalf("server-everything did not listen on %s within 30s:\n%s", addr, logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestAuditServerEverything audits the npm reference server, which nobody
// here wrote, over Streamable HTTP and legacy SSE. Its tools are annotated
// and clean; what costs it is the lethal trifecta: get-env returns every
// environment variable and gzip-file-as-resource fetches any URL.
func TestAuditServerEverything(t *testing.T) {
	cases := []struct{ transport, path, flag string }{
		{"streamableHttp", "/mcp", "streamable"},
		{"sse", "/sse", "sse"},
	}
	for _, c := range cases {
		t.Run(c.transport, func(t *testing.T) {
			url := startEverything(t, c.transport) + c.path
			res, code, stderr := runAudit(t, url, "--transport", c.flag)
			r := res.Report
			t.Logf("server-everything over %s: score %d grade %s, findings %v", c.flag, r.Score, r.Grade, findingsOf(r))
			if code != 0 || res.Transport != c.flag {
				t.Fatalf("exit %d transport %q; stderr %s", code, res.Transport, stderr)
			}
			if r.Tools < 10 || r.Prompts == 0 || r.Resources == 0 || !strings.Contains(r.Server, "everything") {
				t.Fatalf("surface not listed in full: %+v", r)
			}
			if r.Grade != score.D || len(r.Caps) != 1 || r.Caps[0].Check != score.CheckTrifecta {
				t.Fatalf("grade %s caps %+v, want D capped by the trifecta; findings %+v", r.Grade, r.Caps, r.Findings)
			}
			if !hasFinding(r, score.CheckTrifecta, "get-env") || !hasFinding(r, score.CheckTrifecta, "gzip-file-as-resource") {
				t.Errorf("trifecta evidence does not name get-env and gzip-file-as-resource: %+v", r.Findings)
			}
			for _, f := range r.Findings {
				switch f.Check {
				case score.CheckPoisoning, score.CheckSchemaSecret, score.CheckErrorConformance, score.CheckMissingAnnotations:
					t.Errorf("unexpected finding on a clean, annotated server answering -32601: %+v", f)
				}
			}
		})
	}
}

// TestAuditServerEverythingBehavioral: calling its read-only tools with
// canaries must not find an exfiltration that is not there.
func TestAuditServerEverythingBehavioral(t *testing.T) {
	url := startEverything(t, "streamableHttp") + "/mcp"
	res, _, stderr := runAudit(t, url, "--behavioral")
	if !strings.Contains(stderr, `calling read-only tool "echo"`) {
		t.Fatalf("echo was not called: %s", stderr)
	}
	for _, f := range res.Report.Findings {
		if f.Check == score.CheckExfiltration || f.Check == score.CheckOutputInjection {
			t.Errorf("false behavioral finding: %+v", f)
		}
	}
}
