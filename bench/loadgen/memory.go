package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// memory holds o.sseStreams SSE exchanges open in a mcpgate process, each
// with half an event held back, and reports the process's RSS: idle, with
// the streams open, and after o.lifetime more events on every stream.
// It speaks ext_proc directly, as Envoy would, since the point is the
// processor's own memory per stream.
func memory(ctx context.Context, o options, stdout io.Writer) error {
	dir, err := os.MkdirTemp("", "mcpgate-mem-")
	if err != nil {
		return err
	}
	st := &stack{dir: dir}
	defer st.stop()
	port, err := freePort()
	if err != nil {
		return err
	}
	policy := filepath.Join(dir, "policy.yaml")
	pol := fmt.Sprintf("mode: active\npinning:\n  store: %s\n", filepath.Join(dir, "pins"))
	if err := os.WriteFile(policy, []byte(pol), 0o600); err != nil {
		return err
	}
	cmd, err := st.run(ctx, "mcpgate", o.bin.mcpgate, "serve", "--listen", addr(port), "--config", policy, "--log-level", "warn")
	if err != nil {
		return err
	}
	conn, err := grpc.NewClient(addr(port), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	defer conn.Close()
	pc := extprocv3.NewExternalProcessorClient(conn)
	rss := func() (int, error) { return rssKiB(cmd.Process.Pid) }

	// Warm up: one stream start to end, so the idle reading includes the
	// server's lazily made state (connection, detector tables).
	time.Sleep(300 * time.Millisecond)
	if err := warmUp(ctx, pc); err != nil {
		return fmt.Errorf("warm-up: %w", err)
	}
	runtime.GC()
	idle, err := rss()
	if err != nil {
		return err
	}
	streams := make([]*sseStream, o.sseStreams)
	var mu sync.Mutex
	var first error
	var wg sync.WaitGroup
	for i := range streams {
		wg.Go(func() {
			s, err := openSSE(ctx, pc)
			mu.Lock()
			defer mu.Unlock()
			if err != nil && first == nil {
				first = err
			}
			streams[i] = s
		})
	}
	wg.Wait()
	if first != nil {
		return fmt.Errorf("open streams: %w", first)
	}
	open, err := rss()
	if err != nil {
		return err
	}
	// Every stream now lives through more events, one chunk each, every
	// chunk completing the held half event and holding the next half:
	// what a long-lived stream does. RSS is read after each stage; a
	// bounded stream stops growing once the runtime's heap target is met.
	var lived []int
	done := 0
	for _, total := range o.lifetime {
		for i := range streams {
			wg.Go(func() {
				err := streams[i].events(total - done)
				mu.Lock()
				defer mu.Unlock()
				if err != nil && first == nil {
					first = err
				}
			})
		}
		wg.Wait()
		if first != nil {
			return fmt.Errorf("events: %w", first)
		}
		done = total
		r, err := rss()
		if err != nil {
			return err
		}
		lived = append(lived, r)
	}
	for _, s := range streams {
		if err := s.close(); err != nil {
			return fmt.Errorf("close: %w", err)
		}
	}
	time.Sleep(time.Second)
	closed, err := rss()
	if err != nil {
		return err
	}
	n := o.sseStreams
	fmt.Fprintf(stdout, "\nmcpgate RSS with %d open SSE streams (each holding half an event of %d bytes):\n", n, len(halfEvent))
	fmt.Fprintln(stdout, "| state | RSS | per stream |")
	fmt.Fprintln(stdout, "|---|---:|---:|")
	fmt.Fprintf(stdout, "| idle (after one warm-up stream) | %.1f MiB | |\n", mib(idle))
	fmt.Fprintf(stdout, "| %d streams open | %.1f MiB | %.1f KiB |\n", n, mib(open), float64(open-idle)/float64(n))
	for i, total := range o.lifetime {
		fmt.Fprintf(stdout, "| after %d more events on each | %.1f MiB | %+.2f KiB since open |\n", total, mib(lived[i]), float64(lived[i]-open)/float64(n))
	}
	fmt.Fprintf(stdout, "| all closed, 1 s later | %.1f MiB | |\n", mib(closed))
	return nil
}

func mib(kib int) float64 { return float64(kib) / 1024 }

// rssKiB reads a process's resident set size from /proc.
func rssKiB(pid int) (int, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			return strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
		}
	}
	return 0, fmt.Errorf("no VmRSS for pid %d", pid)
}

// progressEvent is a complete SSE event of about 1 KiB; halfEvent is the
// first half of one, which mcpgate must hold until the rest arrives.
var (
	progressEvent = "event: message\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{\"progressToken\":\"t\",\"progress\":1,\"message\":\"" +
		strings.Repeat("working on it ", 70) + "\"}}\n\n"
	halfEvent = progressEvent[:len(progressEvent)/2]
)

type sseStream struct {
	ps     extprocv3.ExternalProcessor_ProcessClient
	cancel context.CancelFunc
}

func openSSE(ctx context.Context, pc extprocv3.ExternalProcessorClient) (*sseStream, error) {
	ctx, cancel := context.WithCancel(ctx)
	ps, err := pc.Process(ctx)
	if err != nil {
		cancel()
		return nil, err
	}
	s := &sseStream{ps: ps, cancel: cancel}
	msgs := []*extprocv3.ProcessingRequest{
		headers(false, ":method", "POST", ":path", "/mcp", "content-type", "application/json", "mcp-session-id", "bench"),
		body(false, `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"stream_story","arguments":{}}}`, true),
		headers(true, ":status", "200", "content-type", "text/event-stream"),
		body(true, progressEvent+halfEvent, false),
	}
	for _, m := range msgs {
		if err := s.roundTrip(m); err != nil {
			cancel()
			return nil, err
		}
	}
	return s, nil
}

func (s *sseStream) roundTrip(m *extprocv3.ProcessingRequest) error {
	if err := s.ps.Send(m); err != nil {
		return err
	}
	_, err := s.ps.Recv()
	return err
}

// events sends n chunks, each finishing the held event and holding a new half.
func (s *sseStream) events(n int) error {
	chunk := progressEvent[len(halfEvent):] + progressEvent + halfEvent
	for range n {
		if err := s.roundTrip(body(true, chunk, false)); err != nil {
			return err
		}
	}
	return nil
}

func (s *sseStream) close() error {
	err := s.roundTrip(body(true, progressEvent[len(halfEvent):], true))
	s.ps.CloseSend()
	s.cancel()
	return err
}

// warmUp runs one stream start to end.
func warmUp(ctx context.Context, pc extprocv3.ExternalProcessorClient) error {
	s, err := openSSE(ctx, pc)
	if err != nil {
		return err
	}
	if err := s.events(10); err != nil {
		return err
	}
	return s.close()
}

func headers(response bool, kv ...string) *extprocv3.ProcessingRequest {
	hm := &corev3.HeaderMap{}
	for i := 0; i+1 < len(kv); i += 2 {
		hm.Headers = append(hm.Headers, &corev3.HeaderValue{Key: kv[i], RawValue: []byte(kv[i+1])})
	}
	h := &extprocv3.HttpHeaders{Headers: hm}
	if response {
		return &extprocv3.ProcessingRequest{Request: &extprocv3.ProcessingRequest_ResponseHeaders{ResponseHeaders: h}}
	}
	return &extprocv3.ProcessingRequest{Request: &extprocv3.ProcessingRequest_RequestHeaders{RequestHeaders: h}}
}

func body(response bool, b string, eos bool) *extprocv3.ProcessingRequest {
	hb := &extprocv3.HttpBody{Body: []byte(b), EndOfStream: eos}
	if response {
		return &extprocv3.ProcessingRequest{Request: &extprocv3.ProcessingRequest_ResponseBody{ResponseBody: hb}}
	}
	return &extprocv3.ProcessingRequest{Request: &extprocv3.ProcessingRequest_RequestBody{RequestBody: hb}}
}
