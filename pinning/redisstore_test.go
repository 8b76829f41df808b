package pinning

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestRedisStore runs the Store contract against a real redis-server.
func TestRedisStore(t *testing.T) {
	url := startRedis(t)
	testStore(t, func() Store {
		st, err := OpenStore(context.Background(), url)
		if err != nil {
			t.Fatal(err)
		}
		return st
	})
	// Keys are namespaced, so the Redis can be shared with other users.
	out, err := exec.Command("redis-cli", "-u", url, "--raw", "keys", "*").CombinedOutput()
	if err == nil && !strings.Contains(string(out), redisPrefix+"backend:default") {
		t.Errorf("redis keys %q lack the %q prefix", out, redisPrefix)
	}
}

// startRedis starts a throwaway redis-server (no persistence) on a free
// port and returns its URL. Without redis-server the test is skipped
// locally but fails in CI (CI set), where the Makefile installs it.
func startRedis(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("redis-server not on PATH; CI must install it (Debian package redis-server)")
		}
		t.Skip("redis-server not on PATH; install it (apt-get install redis-server) to test RedisStore")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := exec.Command(bin, "--port", fmt.Sprint(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", t.TempDir())
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "Ready to accept connections") {
				close(ready)
				break
			}
		}
		for sc.Scan() { // keep draining so the server never blocks on stdout
		}
	}()
	select {
	case <-ready:
	case <-time.After(10 * time.Second):
		t.Fatalf("redis-server did not start on port %d", port)
	}
	return fmt.Sprintf("redis://127.0.0.1:%d/0", port)
}
