package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// stack is the processes under test, all on loopback, started once and
// shared by every round so the setups see the same warm backend.
type stack struct {
	dir     string
	envoys  map[string]string // setup -> listener base URL
	pids    map[string][]int  // setup -> Envoy's and the processor's pids
	mcpgate *exec.Cmd
	procs   []*exec.Cmd
}

// binaries are the programs the harness runs (built by `make bench`).
type binaries struct {
	envoy, mcpgate, passproc, backend string
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// start runs the backend, both processors and one Envoy per setup.
// corpus is the training corpus folder for the backend's realistic
// outputs, "" for none.
func start(ctx context.Context, bin binaries, envoyConfig string, concurrency int, corpus string) (*stack, error) {
	dir, err := os.MkdirTemp("", "mcpgate-bench-")
	if err != nil {
		return nil, err
	}
	s := &stack{dir: dir, envoys: map[string]string{}, pids: map[string][]int{}}
	ports := map[string]int{}
	for _, name := range []string{"backend", "passproc", "mcpgate"} {
		if ports[name], err = freePort(); err != nil {
			return s, err
		}
	}
	backendArgs := []string{"-addr", addr(ports["backend"])}
	if corpus != "" {
		backendArgs = append(backendArgs, "-corpus", corpus)
	}
	if _, err := s.run(ctx, "backend", bin.backend, backendArgs...); err != nil {
		return s, err
	}
	pass, err := s.run(ctx, "passproc", bin.passproc, "-listen", addr(ports["passproc"]))
	if err != nil {
		return s, err
	}
	policy := filepath.Join(dir, "policy.yaml")
	pol := fmt.Sprintf("mode: active\npinning:\n  store: %s\nbackends:\n  default:\n    allowed_tools: [bench_text, echo, fetch_page, stream_story]\n", filepath.Join(dir, "pins"))
	if err := os.WriteFile(policy, []byte(pol), 0o600); err != nil {
		return s, err
	}
	if s.mcpgate, err = s.run(ctx, "mcpgate", bin.mcpgate, "serve", "--listen", addr(ports["mcpgate"]),
		"--config", policy, "--log-level", "warn"); err != nil {
		return s, err
	}
	tmpl, err := os.ReadFile(envoyConfig)
	if err != nil {
		return s, err
	}
	for _, setup := range setups {
		listen, admin, err := twoPorts()
		if err != nil {
			return s, err
		}
		proc := map[string]int{setupPass: ports["passproc"], setupMcpgate: ports["mcpgate"]}[setup]
		cfg, err := envoyYAML(string(tmpl), map[int]int{10000: listen, 9901: admin, 8080: ports["backend"], 50051: proc}, setup == setupDirect)
		if err != nil {
			return s, err
		}
		file := filepath.Join(dir, "envoy-"+setup+".yaml")
		if err := os.WriteFile(file, cfg, 0o600); err != nil {
			return s, err
		}
		envoy, err := s.run(ctx, "envoy-"+setup, bin.envoy, "-c", file, "--use-dynamic-base-id",
			"--concurrency", fmt.Sprint(concurrency), "--log-level", "warn")
		if err != nil {
			return s, err
		}
		s.pids[setup] = []int{envoy.Process.Pid}
		switch setup {
		case setupPass:
			s.pids[setup] = append(s.pids[setup], pass.Process.Pid)
		case setupMcpgate:
			s.pids[setup] = append(s.pids[setup], s.mcpgate.Process.Pid)
		}
		if err := waitReady(ctx, admin); err != nil {
			return s, fmt.Errorf("envoy %s: %w (log in %s)", setup, err, dir)
		}
		s.envoys[setup] = "http://" + addr(listen)
	}
	return s, waitHTTP(ctx, "http://"+addr(ports["backend"])+"/mcp-json")
}

func addr(port int) string { return fmt.Sprintf("127.0.0.1:%d", port) }

func twoPorts() (int, int, error) {
	a, err := freePort()
	if err != nil {
		return 0, 0, err
	}
	b, err := freePort()
	return a, b, err
}

// run starts a child whose output goes to a log file in the stack's dir.
func (s *stack) run(ctx context.Context, name, path string, args ...string) (*exec.Cmd, error) {
	out, err := os.Create(filepath.Join(s.dir, name+".log"))
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		out.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	s.procs = append(s.procs, cmd)
	return cmd, nil
}

// stop interrupts every child and waits for it.
func (s *stack) stop() {
	for _, p := range s.procs {
		_ = p.Process.Signal(os.Interrupt)
	}
	for _, p := range s.procs {
		done := make(chan struct{})
		go func() { _ = p.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = p.Process.Kill()
			<-done
		}
	}
	os.RemoveAll(s.dir)
}

// envoyYAML rewrites the bundled config's ports (each must occur exactly
// once, so a changed config fails loudly) and, for the direct setup,
// removes the ext_proc filter and its per-route settings.
func envoyYAML(cfg string, ports map[int]int, direct bool) ([]byte, error) {
	for from, to := range ports {
		old := fmt.Sprintf("port_value: %d }", from)
		if strings.Count(cfg, old) != 1 {
			return nil, fmt.Errorf("envoy.yaml: want exactly one %q", old)
		}
		cfg = strings.Replace(cfg, old, fmt.Sprintf("port_value: %d }", to), 1)
	}
	if !direct {
		return []byte(cfg), nil
	}
	var root any
	if err := yaml.Unmarshal([]byte(cfg), &root); err != nil {
		return nil, fmt.Errorf("envoy.yaml: %w", err)
	}
	if removed := dropExtProc(root); removed == 0 {
		return nil, fmt.Errorf("envoy.yaml: no ext_proc filter to remove")
	}
	return yaml.Marshal(root)
}

const extProcFilter = "envoy.filters.http.ext_proc"

// dropExtProc deletes the ext_proc http filter and every per-route
// override of it, returning how many filters it removed.
func dropExtProc(v any) int {
	n := 0
	switch v := v.(type) {
	case map[string]any:
		if pf, ok := v["typed_per_filter_config"].(map[string]any); ok {
			delete(pf, extProcFilter)
			if len(pf) == 0 {
				delete(v, "typed_per_filter_config")
			}
		}
		for k, el := range v {
			if k == "http_filters" {
				if list, ok := el.([]any); ok {
					kept := list[:0]
					for _, f := range list {
						if m, ok := f.(map[string]any); ok && m["name"] == extProcFilter {
							n++
							continue
						}
						kept = append(kept, f)
					}
					v[k] = kept
				}
			}
			n += dropExtProc(v[k])
		}
	case []any:
		for _, el := range v {
			n += dropExtProc(el)
		}
	}
	return n
}

func waitReady(ctx context.Context, admin int) error {
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/ready", admin))
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if strings.TrimSpace(string(body)) == "LIVE" {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return fmt.Errorf("not ready after 20s")
}

// waitHTTP waits until url answers at all (any status).
func waitHTTP(ctx context.Context, url string) error {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return fmt.Errorf("%s not answering after 10s", url)
}

// cpuTime is the user plus system CPU time a process has used so far
// (the python wrapper of the Envoy wheel execs Envoy, keeping the pid).
func cpuTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// Fields after the command name, which is in parentheses and may hold spaces.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f))
	}
	var ticks int64
	for _, v := range f[11:13] { // utime, stime (fields 14 and 15)
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, err
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / clockTicks, nil
}

// clockTicks is USER_HZ, 100 on every Linux architecture Go supports.
const clockTicks = 100
