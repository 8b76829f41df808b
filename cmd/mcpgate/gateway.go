package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/mcpgate/mcpgate/envoy"
	"github.com/mcpgate/mcpgate/extproc"
)

type gatewayFlags struct {
	upstream      string
	listen        string
	publicURL     string
	caFile        string
	envoyLogLevel string
	serve         serveFlags
	label         string // what the gateway line names instead of the upstream URL
}

// gateway runs a local gateway: `mcpgate serve` in this process on a free
// loopback port and Envoy as a child, with the bundled config pointed at
// --upstream. It prints the gateway's URL on stdout once Envoy is ready and
// stops both when ctx ends (Ctrl-C, SIGTERM) or either of them fails.
// Arguments after "--" go to serve unchanged (any of its flags); without
// --upstream they are a stdio server's command line (run_stdio.go).
func gateway(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var f gatewayFlags
	fs := flag.NewFlagSet("mcpgate run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: mcpgate run --upstream URL [flags] [-- mcpgate serve flags]")
		fmt.Fprintln(fs.Output(), "       mcpgate run [flags] -- CMD [ARGS...]   start a stdio MCP server and serve it over Streamable HTTP")
		fs.PrintDefaults()
	}
	fs.StringVar(&f.upstream, "upstream", "", "the MCP server's URL, e.g. http://127.0.0.1:8080/mcp (required)")
	fs.StringVar(&f.listen, "listen", "127.0.0.1:10000", "address clients connect to (port 0: any free port)")
	fs.StringVar(&f.publicURL, "public-url", "", "the gateway's base URL as clients see it, if not http://LISTEN")
	fs.StringVar(&f.caFile, "upstream-ca", "", "CA bundle for an https upstream (default: the system bundle)")
	fs.StringVar(&f.envoyLogLevel, "envoy-log-level", "warn", "Envoy's log level: trace, debug, info, warn, error")
	fs.StringVar(&f.serve.config, "config", "", "YAML policy file (default: passive mode, no allowlist)")
	fs.StringVar(&f.serve.mode, "mode", "", "override the policy's mode: passive or active")
	fs.TextVar(&f.serve.logLevel, "log-level", slog.LevelInfo, "mcpgate's log level: debug, info, warn, error")
	var err error
	if err := parseFlags(fs, args, stdout); err != nil {
		return exitCode(err)
	}
	rest := fs.Args()
	passthrough := len(rest) > 0 && args[len(args)-len(rest)-1] == "--"
	var stdio *stdioBackend
	if f.upstream == "" && passthrough {
		if stdio, err = newStdioBackend(rest, f, stderr); err != nil {
			fmt.Fprintf(stderr, "mcpgate run: %v\n", err)
			return 2
		}
		defer stdio.l.Close() // if it never starts
		f.upstream, f.label, rest = stdio.url, stdio.label, nil
	}
	up, err := url.Parse(f.upstream)
	if f.upstream == "" || err != nil || (len(rest) > 0 && !passthrough) {
		fmt.Fprintln(stderr, "mcpgate run: need --upstream URL or -- CMD (other arguments only after --)")
		fs.Usage()
		return 2
	}
	if _, _, err := net.SplitHostPort(f.listen); err != nil {
		fmt.Fprintf(stderr, "mcpgate run: --listen: %v\n", err)
		return 2
	}
	bin, err := findEnvoy()
	if err != nil {
		fmt.Fprintf(stderr, "mcpgate run: %v\n", err)
		return 2
	}
	policy, err := loadPolicy(f.serve) // serve loads it again; this names the mode and fails before Envoy starts
	if err != nil {
		fmt.Fprintf(stderr, "mcpgate run: %v\n", err)
		return 2
	}
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	if stdio != nil {
		stdio.start(ctx, stop)
	}
	// serve's own flags, then the caller's: a later flag wins.
	serveArgs := []string{"--listen", "127.0.0.1:0", "--drain-timeout", "2s", "--log-level", f.serve.logLevel.String()}
	if f.serve.config != "" {
		serveArgs = append(serveArgs, "--config", f.serve.config)
	}
	if f.serve.mode != "" {
		serveArgs = append(serveArgs, "--mode", f.serve.mode)
	}
	ready := make(chan net.Addr, 1)
	served := make(chan int, 1)
	go func() { served <- serve(ctx, append(serveArgs, rest...), stderr, ready) }()
	var grpcAddr net.Addr
	select {
	case grpcAddr = <-ready:
	case code := <-served:
		return code
	}
	// A port picked for --listen :0 is free when picked, but anything may
	// take it before Envoy binds it: then Envoy fails at startup, and
	// another port is tried.
	listen, code := f.listen, 0
	for attempt := 1; ; attempt++ {
		if f.listen, err = resolveListen(listen); err != nil {
			fmt.Fprintf(stderr, "mcpgate run: --listen: %v\n", err)
			code = 2
			break
		}
		var started bool
		code, started = superviseEnvoy(ctx, f, up, bin, grpcAddr.String(), policy.Mode, stdout, stderr)
		if started || code == 2 || f.listen == listen || attempt == 3 || ctx.Err() != nil {
			break
		}
		fmt.Fprintf(stderr, "mcpgate run: envoy did not start on %s, picked for --listen %s; trying another port\n", f.listen, listen)
	}
	stop()
	if served := <-served; served != 0 {
		return served
	}
	if stdio != nil {
		return stdio.exitCode(code)
	}
	return code
}

// superviseEnvoy starts Envoy, prints the gateway URL when it is ready, and
// stops it when ctx ends. It returns 0 after a requested stop, 1 if Envoy
// failed or exited by itself, 2 for a bad config; started says whether
// Envoy got ready.
func superviseEnvoy(ctx context.Context, f gatewayFlags, up *url.URL, bin, grpcAddr string, mode extproc.Mode, stdout, stderr io.Writer) (code int, started bool) {
	dir, err := os.MkdirTemp("", "mcpgate-run-")
	if err != nil {
		fmt.Fprintf(stderr, "mcpgate run: %v\n", err)
		return 1, false
	}
	defer os.RemoveAll(dir)
	public := f.publicURL
	if public == "" {
		public = localURL(f.listen)
	}
	cfg, err := envoy.Derive(envoy.Options{Listen: f.listen, Admin: "127.0.0.1:0", Upstream: up, CAFile: f.caFile,
		ExtProc: grpcAddr, PublicURL: public})
	if err != nil {
		fmt.Fprintf(stderr, "mcpgate run: %v\n", err)
		return 2, false
	}
	cfgFile, adminFile := filepath.Join(dir, "envoy.json"), filepath.Join(dir, "admin-address")
	if err := os.WriteFile(cfgFile, cfg, 0o600); err != nil {
		fmt.Fprintf(stderr, "mcpgate run: %v\n", err)
		return 1, false
	}
	proc := &envoyProcess{cmd: exec.Command(bin, "-c", cfgFile, "--admin-address-path", adminFile,
		"--disable-hot-restart", "--log-level", f.envoyLogLevel)}
	if err := proc.start(stderr, "[envoy] "); err != nil {
		fmt.Fprintf(stderr, "mcpgate run: start %s: %v\n", bin, err)
		return 1, false
	}
	defer proc.stop(5 * time.Second)

	if err := waitReady(ctx, adminFile, proc.exited); err != nil {
		if ctx.Err() != nil {
			return 0, false
		}
		fmt.Fprintf(stderr, "mcpgate run: envoy: %v\n", err)
		return 1, false
	}
	gw := strings.TrimSuffix(public, "/") + up.EscapedPath()
	target := up.Redacted()
	if f.label != "" {
		target = f.label
	}
	fmt.Fprintf(stdout, "mcpgate %s gateway: %s -> %s\n", mode, gw, target)
	select {
	case <-ctx.Done():
		return 0, true
	case <-proc.exited:
		fmt.Fprintf(stderr, "mcpgate run: envoy exited: %v\n", proc.err)
		return 1, true
	}
}

// envoyProcess is Envoy as a child that dies with this process.
type envoyProcess struct {
	cmd    *exec.Cmd
	exited chan struct{} // closed when the process has exited; err is then set
	err    error
	logs   sync.WaitGroup
}

func (p *envoyProcess) start(logs io.Writer, prefix string) error {
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		return err
	}
	p.cmd.Stderr = p.cmd.Stdout
	// SIGKILL when the thread that started it dies, so a crashed or killed
	// mcpgate leaves no Envoy behind. That is per thread on Linux: the
	// starting goroutine keeps its thread locked until Envoy has exited.
	// Its own process group keeps a terminal's Ctrl-C from reaching it
	// before mcpgate has asked it to stop.
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	p.exited = make(chan struct{})
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := p.cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		p.logs.Add(1)
		go func() { defer p.logs.Done(); copyLines(logs, out, prefix) }()
		p.logs.Wait() // Wait closes the pipe: read it all first
		p.err = p.cmd.Wait()
		close(p.exited)
	}()
	return <-started
}

// stop asks Envoy to exit (SIGTERM) and kills it after grace.
func (p *envoyProcess) stop(grace time.Duration) {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(grace):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}

// waitReady polls Envoy's admin /ready until it reports LIVE.
func waitReady(ctx context.Context, adminFile string, exited <-chan struct{}) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	tick := time.NewTicker(25 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return fmt.Errorf("not ready: %w", ctx.Err())
		case <-exited:
			return errors.New("exited during startup (see its log above)")
		case <-tick.C:
		}
		admin, err := os.ReadFile(adminFile)
		if err != nil || len(admin) == 0 {
			continue
		}
		if body, err := adminGet(ctx, "http://"+strings.TrimSpace(string(admin))+"/ready"); err == nil && strings.TrimSpace(body) == "LIVE" {
			return nil
		}
	}
}

func adminGet(ctx context.Context, u string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%s: %s", u, resp.Status)
	}
	return string(b), err
}

// findEnvoy looks on PATH, then in the .venv that `make envoy` fills, next
// to the source tree (go run, tests) or to the binary (bin/mcpgate).
func findEnvoy() (string, error) {
	if p, err := exec.LookPath("envoy"); err == nil {
		return p, nil
	}
	var roots []string
	if wd, err := os.Getwd(); err == nil {
		roots = append(roots, wd, filepath.Join(wd, "..", ".."))
	}
	if exe, err := os.Executable(); err == nil {
		roots = append(roots, filepath.Join(filepath.Dir(exe), ".."))
	}
	for _, r := range roots {
		p := filepath.Join(r, ".venv", "bin", "envoy")
		if _, err := os.Stat(p); err == nil {
			return filepath.Abs(p)
		}
	}
	return "", errors.New("no envoy binary on PATH or in the project's .venv: run `make envoy` to install it")
}

// copyLines copies r to w line by line, each line with prefix.
func copyLines(w io.Writer, r io.Reader, prefix string) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		fmt.Fprintf(w, "%s%s\n", prefix, sc.Text())
	}
	io.Copy(io.Discard, r) // after an over-long line: drain, so Envoy never blocks on its log
}

// localURL is the gateway's URL for a client on this machine: a listener
// on every interface is reached on loopback.
func localURL(listen string) string {
	host, port, _ := net.SplitHostPort(listen) // resolveListen checked it
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// resolveListen replaces port 0 with a free port, so the address can be
// printed and passed to mcpgate as the public URL before Envoy binds it.
func resolveListen(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || port != "0" {
		return addr, err
	}
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return "", err
	}
	defer l.Close()
	return net.JoinHostPort(host, strconv.Itoa(l.Addr().(*net.TCPAddr).Port)), nil
}
