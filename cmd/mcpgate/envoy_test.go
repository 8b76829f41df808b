package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
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
// processor ports and returns the listener URL once Envoy is ready.
func startEnvoy(t *testing.T, backendPort, mcpgatePort int) string {
	t.Helper()
	return startDerivedEnvoy(t, envoy.Options{
		Upstream: &url.URL{Scheme: "http", Host: fmt.Sprintf("127.0.0.1:%d", backendPort)},
		ExtProc:  fmt.Sprintf("127.0.0.1:%d", mcpgatePort),
	})
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
	var out syncBuffer
	level := os.Getenv("MCPGATE_ENVOY_LOG_LEVEL") // e.g. debug, when a test fails inside Envoy
	if level == "" {
		level = "warn"
	}
	cmd := exec.Command(envoyBinary(t), "-c", cfg, "--use-dynamic-base-id", "--concurrency", "1", "--log-level", level)
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
				return fmt.Sprintf("http://127.0.0.1:%d", listen)
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("envoy not ready after 20s:\n%s", out.String())
	return ""
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
