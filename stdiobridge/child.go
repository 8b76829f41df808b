package stdiobridge

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"runtime"
	"sync"
	"syscall"
	"time"
)

// child is one stdio server process: stdin fed in order by a writer
// goroutine, stdout split into lines for its session, stderr logged.
type child struct {
	cmd      *exec.Cmd
	in       chan []byte   // lines to write, without the newline
	quit     chan struct{} // closed by stop: the writer closes stdin
	readDone chan struct{} // stdout reached EOF
	exited   chan struct{} // the process is reaped and stdout read; err is set
	err      error
	stopOnce sync.Once

	mu       sync.Mutex
	stopping bool // the bridge ended it: its exit is not a crash
}

// startChild runs cfg.Command and calls onLine for each line it prints on
// stdout, in order, from one goroutine.
func startChild(cfg *Config, log func() *slog.Logger, onLine func([]byte)) (*child, error) {
	cmd := exec.Command(cfg.Command[0], cfg.Command[1:]...)
	cmd.Env, cmd.Dir = cfg.Env, cfg.Dir
	// Its own process group: a terminal's Ctrl-C reaches mcpgate only,
	// which then stops the child in order, and a signal to the group
	// reaches what the child spawned (npx runs node). SIGKILL when the
	// starting thread dies, so a killed mcpgate leaves no server behind;
	// that is per thread on Linux, hence the thread locked until exit.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	// Plain pipes, not StdoutPipe: Wait then returns at the process's exit
	// without closing our ends, so what it printed last is still read.
	inR, inW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		inR.Close()
		inW.Close()
		return nil, err
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		for _, f := range []*os.File{inR, inW, outR, outW} {
			f.Close()
		}
		return nil, err
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = inR, outW, errW
	c := &child{cmd: cmd, in: make(chan []byte, 64), quit: make(chan struct{}),
		readDone: make(chan struct{}), exited: make(chan struct{})}
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		err := cmd.Start()
		inR.Close()
		outW.Close()
		errW.Close()
		started <- err
		if err != nil {
			inW.Close()
			outR.Close()
			errR.Close()
			return
		}
		go func() { defer close(c.readDone); defer outR.Close(); readLines(outR, cfg.MaxMessageBytes, log, onLine) }()
		go func() { defer errR.Close(); logLines(errR, cfg.StderrPrefix, log) }()
		go c.write(inW, log)
		c.err = cmd.Wait()
		// A grandchild may hold stdout open after the child is gone:
		// wait for the last lines only briefly.
		select {
		case <-c.readDone:
		case <-time.After(time.Second):
		}
		close(c.exited)
	}()
	if err := <-started; err != nil {
		return nil, fmt.Errorf("start %s: %w", cfg.Command[0], err)
	}
	return c, nil
}

// write copies lines to stdin until stop, then closes it: the stdio
// transport's first step of a shutdown.
func (c *child) write(w io.WriteCloser, log func() *slog.Logger) {
	defer w.Close()
	var failed bool
	for {
		select {
		case line := <-c.in:
			if failed {
				continue // the process is gone; its exit is reported elsewhere
			}
			buf := make([]byte, 0, len(line)+1)
			if _, err := w.Write(append(append(buf, line...), '\n')); err != nil {
				log().Warn("write to stdio server", "error", err)
				failed = true
			}
		case <-c.quit:
			return
		case <-c.exited:
			return
		}
	}
}

// send queues one line for stdin; false once the child has exited.
func (c *child) send(line []byte, cancel <-chan struct{}) bool {
	select {
	case c.in <- line:
		return true
	case <-c.exited:
		return false
	case <-cancel:
		return false
	}
}

// stop ends the process as the stdio transport says: close stdin, wait,
// SIGTERM, wait, SIGKILL (to the process group). It returns once reaped.
func (c *child) stop(grace time.Duration) {
	c.mu.Lock()
	c.stopping = true
	c.mu.Unlock()
	c.stopOnce.Do(func() { close(c.quit) })
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGKILL} {
		select {
		case <-c.exited:
			return
		case <-time.After(grace):
		}
		_ = syscall.Kill(-c.cmd.Process.Pid, sig)
	}
	<-c.exited
}

// crashed says whether the process exited without the bridge asking.
func (c *child) crashed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return !c.stopping
}

// status is the exit status as a shell reports it: 128+n for signal n.
func (c *child) status() int {
	var ee *exec.ExitError
	if !errors.As(c.err, &ee) {
		if c.err != nil {
			return 1
		}
		return 0
	}
	if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ee.ExitCode()
}

// readLines splits r into lines (LF, with a CR before it dropped) and
// passes each non-blank one on. A line longer than max is dropped whole,
// with a warning, and reading goes on at the next line.
func readLines(r io.Reader, max int, log func() *slog.Logger, onLine func([]byte)) {
	br := bufio.NewReaderSize(r, 64<<10)
	var line []byte
	var tooLong bool
	for {
		frag, err := br.ReadSlice('\n')
		if !tooLong {
			line = append(line, frag...)
			if len(line) > max {
				log().Warn("stdio server printed a line over the size limit; dropped", "limit_bytes", max)
				tooLong, line = true, line[:0]
			}
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if !tooLong {
			if l := bytes.TrimRight(line, "\r\n"); len(bytes.TrimSpace(l)) > 0 {
				onLine(l)
			}
		}
		line, tooLong = nil, false
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, os.ErrClosed) {
				log().Warn("read stdio server's stdout", "error", err)
			}
			return
		}
	}
}

// logLines logs each stderr line with the prefix, at info: a stdio
// server's stderr is its log, not necessarily errors. log is asked per
// line: a started-ahead child gets its session later.
func logLines(r io.Reader, prefix string, log func() *slog.Logger) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		log().Info(prefix + string(bytes.TrimRight(sc.Bytes(), "\r")))
	}
	io.Copy(io.Discard, r) // after an over-long line: drain, so the child never blocks
}
