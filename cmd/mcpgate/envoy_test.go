package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/mcpgate/mcpgate/envoy"
)

// envoyBinary finds the Envoy the Makefile provides: PATH first, then the
// project's .venv. Missing Envoy fails the test unless MCPGATE_SKIP_ENVOY=1.
func envoyBinary(t testing.TB) string {
	t.Helper()
	if p, err := exec.LookPath("envoy"); err == nil {
		return p
	}
	venv, _ := filepath.Abs("../../.venv/bin/envoy")
	if _, err := os.Stat(venv); err == nil {
		return venv
	}
	if os.Getenv("MCPGATE_SKIP_ENVOY") == "1" {
		t.Skip("MCPGATE_SKIP_ENVOY=1: skipping the end-to-end test, no envoy binary on PATH or in .venv")
	}
	t.Fatal("no envoy binary on PATH or in .venv/bin: run `make envoy` (or set MCPGATE_SKIP_ENVOY=1 to skip locally)")
	return ""
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// envoyConfig rewrites the bundled envoy.yaml's fixed ports, failing if the
// file no longer has them (so the test cannot silently run another config).
// edits are further old, new pairs, each old occurring exactly once.
func envoyConfig(t *testing.T, ports map[int]int, edits ...string) string {
	t.Helper()
	data, err := os.ReadFile("../../envoy/envoy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg := string(data)
	for from, to := range ports {
		old := fmt.Sprintf("port_value: %d }", from)
		if strings.Count(cfg, old) != 1 {
			t.Fatalf("envoy.yaml: want exactly one %q", old)
		}
		cfg = strings.Replace(cfg, old, fmt.Sprintf("port_value: %d }", to), 1)
	}
	for i := 0; i+1 < len(edits); i += 2 {
		if strings.Count(cfg, edits[i]) != 1 {
			t.Fatalf("envoy.yaml: want exactly one %q", edits[i])
		}
		cfg = strings.Replace(cfg, edits[i], edits[i+1], 1)
	}
	file := filepath.Join(t.TempDir(), "envoy.yaml")
	if err := os.WriteFile(file, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}

// serveBackend serves h (an MCP backend) on a free loopback port until the
// test ends and returns the port. Register it before anything that holds
// connections to it: cleanups run last-in first-out.
func serveBackend(t testing.TB, h http.Handler) int {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().(*net.TCPAddr).Port
}

// syncBuffer collects a process's or logger's output safely.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startEnvoy runs Envoy with the bundled config pointed at backend and
// processor ports (and edited, see envoyConfig) and returns the listener
// URL once Envoy is ready.
func startEnvoy(t *testing.T, backendPort, mcpgatePort int, edits ...string) string {
	t.Helper()
	listen, admin := freePort(t), freePort(t)
	cfg := envoyConfig(t, map[int]int{10000: listen, 9901: admin, 8080: backendPort, 50051: mcpgatePort}, edits...)
	return runEnvoy(t, cfg, listen, admin)
}

// startEnvoyEdited is startEnvoy with text replacements in the config
// (each old string must occur exactly once).
func startEnvoyEdited(t *testing.T, backendPort, mcpgatePort int, edits map[string]string) string {
	t.Helper()
	var pairs []string
	for old, repl := range edits {
		pairs = append(pairs, old, repl)
	}
	return startEnvoy(t, backendPort, mcpgatePort, pairs...)
}

// startDerivedEnvoy runs Envoy with the bundled config derived as o says
// (the listener and admin ports are always free ones), then changed by
// edits, and returns the listener URL once Envoy is ready.
func startDerivedEnvoy(t testing.TB, o envoy.Options, edits ...func(*bootstrapv3.Bootstrap) error) string {
	t.Helper()
	listen, admin := freePort(t), freePort(t)
	o.Listen, o.Admin = fmt.Sprintf("127.0.0.1:%d", listen), fmt.Sprintf("127.0.0.1:%d", admin)
	data, err := envoy.Derive(o)
	if err != nil {
		t.Fatal(err)
	}
	if len(edits) > 0 {
		var b bootstrapv3.Bootstrap
		if err := protojson.Unmarshal(data, &b); err != nil {
			t.Fatal(err)
		}
		for _, edit := range edits {
			if err := edit(&b); err != nil {
				t.Fatal(err)
			}
		}
		if data, err = protojson.Marshal(&b); err != nil {
			t.Fatal(err)
		}
	}
	cfg := filepath.Join(t.TempDir(), "envoy.json")
	if err := os.WriteFile(cfg, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return runEnvoy(t, cfg, listen, admin)
}

// startEnvoyLog is startEnvoy also returning Envoy's output (its access
// log and warnings).
func startEnvoyLog(t *testing.T, backendPort, mcpgatePort int) (string, *syncBuffer) {
	t.Helper()
	listen, admin := freePort(t), freePort(t)
	cfg := envoyConfig(t, map[int]int{10000: listen, 9901: admin, 8080: backendPort, 50051: mcpgatePort})
	return runEnvoyLog(t, cfg, listen, admin)
}

// runEnvoy starts Envoy on a config whose listener and admin ports are
// listen and admin, and returns the listener URL once Envoy is ready.
func runEnvoy(t testing.TB, cfg string, listen, admin int) string {
	t.Helper()
	u, _ := runEnvoyLog(t, cfg, listen, admin)
	return u
}

// runEnvoyLog is runEnvoy also returning Envoy's output.
func runEnvoyLog(t testing.TB, cfg string, listen, admin int) (string, *syncBuffer) {
	t.Helper()
	var out syncBuffer
	level := os.Getenv("MCPGATE_ENVOY_LOG_LEVEL") // e.g. debug, when a test fails inside Envoy
	if level == "" {
		level = "warn"
	}
	// The access log is flushed every --file-flush-interval-msec (10 s by default).
	cmd := exec.Command(envoyBinary(t), "-c", cfg, "--use-dynamic-base-id", "--concurrency", "1", "--log-level", level,
		"--file-flush-interval-msec", "100")
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start envoy: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("envoy output:\n%s", out.String())
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/ready", admin))
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if strings.TrimSpace(string(body)) == "LIVE" {
				return fmt.Sprintf("http://127.0.0.1:%d", listen), &out
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("envoy not ready after 20s:\n%s", out.String())
	return "", nil
}

// startMcpgate runs `mcpgate serve` in-process on a free port and returns
// the port, its log and a function that stops it (also run at cleanup).
func startMcpgate(t testing.TB, args ...string) (int, *syncBuffer, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	logs := &syncBuffer{}
	ready := make(chan net.Addr, 1)
	done := make(chan int, 1)
	go func() { done <- serve(ctx, append([]string{"--listen", "127.0.0.1:0"}, args...), logs, ready) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if code := <-done; code != 0 {
				t.Errorf("mcpgate serve exited %d:\n%s", code, logs.String())
			}
		})
	}
	t.Cleanup(stop)
	select {
	case addr := <-ready:
		return addr.(*net.TCPAddr).Port, logs, stop
	case code := <-done:
		t.Fatalf("mcpgate serve exited %d:\n%s", code, logs.String())
	case <-time.After(10 * time.Second):
		t.Fatal("mcpgate serve did not start")
	}
	return 0, nil, nil
}
