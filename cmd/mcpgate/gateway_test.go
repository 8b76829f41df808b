package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpgate/mcpgate/examples/mcpserver"
)

// TestRun starts `mcpgate run` in front of the example server, drives it
// with the SDK client and stops it as Ctrl-C would.
func TestRun(t *testing.T) {
	envoyBinary(t)
	_, backendPort := testBackend(t)
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	policy := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(policy, []byte("backends:\n  default:\n    allowed_tools: [echo]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	upstream := fmt.Sprintf("http://127.0.0.1:%d%s", backendPort, mcpserver.PathSSE)
	for _, tt := range []struct {
		mode  string
		tools []string
	}{
		{"active", []string{"echo"}},
		{"passive", []string{"add", "delete_files", "echo", "fetch_page", "stream_story"}},
	} {
		t.Run(tt.mode, func(t *testing.T) {
			// Flags after -- go to mcpgate serve.
			gw, stop := startGateway(t, "--upstream", upstream, "--listen", "127.0.0.1:0", "--config", policy, "--mode", tt.mode,
				"--", "--drain-timeout", "1s")
			if !strings.HasSuffix(gw, mcpserver.PathSSE) {
				t.Errorf("gateway URL %q does not keep the upstream's path", gw)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			cs, err := mcp.NewClient(&mcp.Implementation{Name: "run-test", Version: "0"}, nil).
				Connect(ctx, &mcp.StreamableClientTransport{Endpoint: gw, MaxRetries: -1}, nil)
			if err != nil {
				t.Fatalf("connect to %s: %v", gw, err)
			}
			if got := toolNames(ctx, t, cs); !slices.Equal(got, tt.tools) {
				t.Errorf("tools/list = %v, want %v", got, tt.tools)
			}
			cs.Close()
			if code, logs := stop(); code != 0 || !strings.Contains(logs, "[envoy] ") {
				t.Errorf("exit code %d, want 0; log (want Envoy's lines prefixed):\n%s", code, logs)
			}
			if _, err := mcp.NewClient(&mcp.Implementation{Name: "run-test", Version: "0"}, nil).
				Connect(ctx, &mcp.StreamableClientTransport{Endpoint: gw, MaxRetries: -1}, nil); err == nil {
				t.Error("gateway still answers after stop: Envoy was left running")
			}
		})
	}
}

// TestRunPortTaken: Envoy cannot bind a --listen port in use, and mcpgate
// run says so and exits 1 instead of waiting.
func TestRunPortTaken(t *testing.T) {
	envoyBinary(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var out, errs syncBuffer
	code := Run(context.Background(), []string{"run", "--upstream", "http://127.0.0.1:1/", "--listen", l.Addr().String()}, nil, &out, &errs)
	if code != 1 || !strings.Contains(errs.String(), "exited during startup") || out.String() != "" {
		t.Errorf("exit %d, stdout %q, stderr:\n%s", code, out.String(), errs.String())
	}
}

func TestRunErrors(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		noEnvoy bool
		want    string
	}{
		{name: "no upstream", args: nil, want: "need --upstream"},
		{name: "extra argument", args: []string{"--upstream", "http://127.0.0.1:1/", "x"}, want: "need --upstream"},
		{name: "bad scheme", args: []string{"--upstream", "ftp://127.0.0.1:1/"}, want: "scheme must be http or https"},
		{name: "bad listen", args: []string{"--upstream", "http://127.0.0.1:1/", "--listen", "nope"}, want: "--listen"},
		{name: "bad mode", args: []string{"--upstream", "http://127.0.0.1:1/", "--mode", "loud"}, want: "mode"},
		{name: "bad serve flag after --", args: []string{"--upstream", "http://127.0.0.1:1/", "--", "--nope"}, want: "flag provided but not defined: -nope"},
		{name: "no envoy", args: []string{"--upstream", "http://127.0.0.1:1/"}, noEnvoy: true, want: "run `make envoy`"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.noEnvoy {
				t.Setenv("PATH", t.TempDir())
				t.Chdir(t.TempDir())
			} else {
				envoyBinary(t)
			}
			var out, errs syncBuffer
			code := Run(context.Background(), append([]string{"run"}, tt.args...), nil, &out, &errs)
			if code != 2 || !strings.Contains(errs.String(), tt.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, errs.String(), tt.want)
			}
		})
	}
}

// startGateway runs `mcpgate run` in-process and returns the gateway URL it
// prints and a function that stops it (also run at cleanup) and returns
// its exit code and stderr.
func startGateway(t testing.TB, args ...string) (string, func() (int, string)) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var out, errs syncBuffer
	done := make(chan int, 1)
	go func() { done <- Run(ctx, append([]string{"run"}, args...), nil, &out, &errs) }()
	code := -1
	stop := func() (int, string) {
		cancel()
		if code == -1 {
			select {
			case code = <-done:
			case <-time.After(15 * time.Second):
				t.Error("mcpgate run did not stop within 15s")
			}
		}
		return code, errs.String()
	}
	t.Cleanup(func() { stop() })
	deadline := time.After(30 * time.Second)
	for {
		if line, _, ok := strings.Cut(out.String(), "\n"); ok {
			_, rest, _ := strings.Cut(line, "gateway: ")
			gw, _, _ := strings.Cut(rest, " ")
			if gw == "" {
				t.Fatalf("unexpected first line %q", line)
			}
			return gw, stop
		}
		select {
		case code = <-done:
			t.Fatalf("mcpgate run exited %d:\n%s", code, errs.String())
		case <-deadline:
			t.Fatalf("mcpgate run printed no URL in 30s:\n%s", errs.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func TestLocalURL(t *testing.T) {
	for listen, want := range map[string]string{
		"127.0.0.1:10000": "http://127.0.0.1:10000",
		":10000":          "http://127.0.0.1:10000",
		"0.0.0.0:8443":    "http://127.0.0.1:8443",
		"[::]:10000":      "http://127.0.0.1:10000",
		"[::1]:10000":     "http://[::1]:10000",
		"gw.internal:80":  "http://gw.internal:80",
	} {
		if got := localURL(listen); got != want {
			t.Errorf("localURL(%q) = %q, want %q", listen, got, want)
		}
	}
}
