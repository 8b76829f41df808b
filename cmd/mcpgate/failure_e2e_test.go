//go:build linux

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	auditlog "github.com/mcpgate/mcpgate/audit"
	"github.com/mcpgate/mcpgate/examples/mcpserver"
)

// helperEnv makes the test binary run `mcpgate serve` instead of tests, so
// failure tests can kill a real mcpgate process without building one.
const helperEnv = "MCPGATE_TEST_HELPER_SERVE"

func TestHelperServeProcess(t *testing.T) {
	args := os.Getenv(helperEnv)
	if args == "" {
		return // an ordinary test run
	}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	var list []string
	if err := json.Unmarshal([]byte(args), &list); err != nil {
		t.Fatal(err)
	}
	os.Exit(Run(ctx, append([]string{"serve"}, list...), os.Stdin, os.Stdout, os.Stderr))
}

// mcpgateProcess is mcpgate serve in its own process.
type mcpgateProcess struct {
	t    *testing.T
	cmd  *exec.Cmd
	logs *syncBuffer
}

func startMcpgateProcess(t *testing.T, port int, args ...string) *mcpgateProcess {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperServeProcess$")
	all := append([]string{"--listen", fmt.Sprintf("127.0.0.1:%d", port)}, args...)
	enc, _ := json.Marshal(all)
	cmd.Env = append(os.Environ(), helperEnv+"="+string(enc))
	p := &mcpgateProcess{t: t, cmd: cmd, logs: &syncBuffer{}}
	cmd.Stdout, cmd.Stderr = p.logs, p.logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGCONT)
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(p.logs.String(), "mcpgate serving"); {
		if time.Now().After(deadline) {
			t.Fatalf("mcpgate did not start:\n%s", p.logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return p
}

func (p *mcpgateProcess) signal(sig syscall.Signal) {
	p.t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		p.t.Fatal(err)
	}
	switch sig {
	case syscall.SIGKILL:
		_ = p.cmd.Wait()
	case syscall.SIGSTOP:
		// Delivery is asynchronous: wait until the kernel shows it stopped.
		stat := fmt.Sprintf("/proc/%d/stat", p.cmd.Process.Pid)
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
			if b, err := os.ReadFile(stat); err == nil && strings.Contains(string(b), ") T ") {
				return
			}
		}
		p.t.Fatalf("mcpgate (pid %d) did not stop", p.cmd.Process.Pid)
	}
}

// TestFailureBehaviourEndToEnd kills and freezes a real mcpgate process
// behind real Envoy and records what an agent sees on the fail-closed
// route "/" (failure_mode_allow: false) and the fail-open route /observe/
// (ExtProcPerRoute overrides.failure_mode_allow: true). Both routes use an
// active allowlist here, so a denied call shows whether traffic was
// checked.
func TestFailureBehaviourEndToEnd(t *testing.T) {
	envoyBinary(t)
	backend := mcpserver.NewBackend()
	backendPort := serveBackend(t, backend.Handler())
	policy := filepath.Join(t.TempDir(), "policy.yaml")
	writeFile(t, policy, "mode: active\npinning: {disabled: true}\nbackends:\n"+
		"  default: {allowed_tools: [echo, stream_story]}\n  observe: {allowed_tools: [echo, stream_story]}\n")
	port := freePort(t)
	proc := startMcpgateProcess(t, port, "--config", policy)
	// message_timeout as short as a test can afford; see docs/operations.md for sizing.
	gw := startEnvoyEdited(t, backendPort, port, map[string]string{"message_timeout: 5s": "message_timeout: 0.5s"})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	routes := []struct {
		name, prefix string
		failOpen     bool
	}{
		{"fail-closed /", "", false},
		{"fail-open /observe/", "/observe", true},
	}
	sessions := map[string]*mcp.ClientSession{}
	for _, r := range routes {
		sessions[r.name] = connectSDK(ctx, t, gw+r.prefix+mcpserver.PathSSE)
	}
	deleteCall := func(prefix string) (string, int) {
		before := backend.Calls("delete_files")
		body := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"delete_files","arguments":{"path":"/tmp/x"}}}`
		req, _ := http.NewRequest(http.MethodPost, gw+prefix+mcpserver.PathStateless, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		got := outcome(http.DefaultClient.Do(req))
		return got, backend.Calls("delete_files") - before
	}

	t.Run("processor up: both routes checked", func(t *testing.T) {
		for _, r := range routes {
			got, reached := deleteCall(r.prefix)
			if reached != 0 || !strings.Contains(got, "not allowed by policy") {
				t.Errorf("%s: %s (backend reached %d times)", r.name, got, reached)
			}
		}
	})

	// What each route gives when mcpgate cannot answer: fail-closed routes
	// answer with Envoy's own status and an empty body, fail-open routes
	// pass the denied call to the backend unchecked.
	unchecked := func(t *testing.T, state string, closedStatus int) {
		for _, r := range routes {
			start := time.Now()
			got, reached := deleteCall(r.prefix)
			took := time.Since(start).Round(10 * time.Millisecond)
			t.Logf("%s, %s: backend reached %d, after %v: %s", r.name, state, reached, took, auditlog.Truncate(got, 60))
			want, wantReached := fmt.Sprintf("%d ", closedStatus), 0
			if r.failOpen {
				want, wantReached = "200 event: message", 1
			}
			if !strings.HasPrefix(got, want) || reached != wantReached {
				t.Errorf("%s, %s: got %q, backend reached %d; want %q, %d", r.name, state, auditlog.Truncate(got, 100), reached, want, wantReached)
			}
		}
	}

	t.Run("processor frozen: message_timeout", func(t *testing.T) {
		proc.signal(syscall.SIGSTOP)
		defer proc.signal(syscall.SIGCONT)
		unchecked(t, "frozen", http.StatusGatewayTimeout)
	})

	t.Run("processor killed mid-stream", func(t *testing.T) {
		type result struct {
			name string
			text string
			err  error
		}
		results := make(chan result, 2*len(routes))
		for _, r := range routes {
			go func() { // the same call as a raw HTTP exchange, to see the wire
				body := `{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"stream_story","arguments":{"parts":8,"delay_ms":150},"_meta":{"progressToken":"p"}}}`
				req, _ := http.NewRequest(http.MethodPost, gw+r.prefix+mcpserver.PathStateless, strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Accept", "application/json, text/event-stream")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					results <- result{name: r.name + " raw", err: err}
					return
				}
				defer resp.Body.Close()
				b, err := io.ReadAll(resp.Body)
				results <- result{r.name + " raw", fmt.Sprintf("status %d, %d progress events, done %v", resp.StatusCode,
					strings.Count(string(b), "notifications/progress"), strings.Contains(string(b), "story done")), err}
			}()

			go func() {
				params := &mcp.CallToolParams{Name: "stream_story", Arguments: map[string]any{"parts": 8, "delay_ms": 150}}
				params.SetProgressToken("p")
				res, err := sessions[r.name].CallTool(ctx, params)
				results <- result{r.name, textOf(res), err}
			}()
		}
		time.Sleep(400 * time.Millisecond)
		proc.signal(syscall.SIGKILL)
		for range 2 * len(routes) {
			res := <-results
			t.Logf("%s, killed mid-stream: %s, err %v", res.name, res.text, res.err)
			finished := res.err == nil && (res.text == "story done: 8 parts" || strings.HasSuffix(res.text, "8 progress events, done true"))
			if open := strings.Contains(res.name, "open"); open != finished {
				t.Errorf("%s: want the stream cut on the fail-closed route and finished on the fail-open one", res.name)
			}
		}
	})

	t.Run("processor gone", func(t *testing.T) { unchecked(t, "down", http.StatusInternalServerError) })

	t.Run("processor restarted", func(t *testing.T) {
		startMcpgateProcess(t, port, "--config", policy)
		for _, r := range routes {
			var got string
			var reached int
			// Envoy reconnects to the processor cluster on the next stream.
			for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
				if got, reached = deleteCall(r.prefix); strings.Contains(got, "not allowed by policy") {
					break
				}
			}
			if reached != 0 || !strings.Contains(got, "not allowed by policy") {
				t.Errorf("%s after restart: %s (backend reached %d)", r.name, got, reached)
			}
		}
	})
}
