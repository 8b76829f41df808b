package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// endMarker ends every bench_text output (see bench/backend).
const endMarker = "[end of bench text]"

// client is one MCP session through one setup, on one endpoint.
type client struct {
	http    *http.Client
	url     string
	session string
	sse     bool
	size    int
	kind    string
	ids     *atomic.Int64 // calls in one session may be in flight at once
}

func newHTTPClient(conns int) *http.Client {
	return &http.Client{Transport: &http.Transport{
		MaxIdleConns: conns, MaxIdleConnsPerHost: conns, DisableCompression: true, IdleConnTimeout: time.Minute,
	}, Timeout: 30 * time.Second}
}

// connect opens an MCP session (initialize, initialized) and lists the
// tools once, so mcpgate pins them as it would in production.
func connect(ctx context.Context, hc *http.Client, base string, sse bool) (*client, error) {
	path := "/mcp-json"
	if sse {
		path = "/mcp"
	}
	c := &client{http: hc, url: base + path, sse: sse, ids: new(atomic.Int64)}
	init := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"loadgen","version":"0"}}}`
	var err error
	for try := 0; try < 50; try++ { // processors may still be starting
		var resp *http.Response
		if resp, err = c.post(ctx, []byte(init)); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			c.session = resp.Header.Get("Mcp-Session-Id")
			if resp.StatusCode == http.StatusOK && c.session != "" {
				break
			}
			err = fmt.Errorf("initialize: status %d", resp.StatusCode)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		return nil, err
	}
	for _, msg := range []string{`{"jsonrpc":"2.0","method":"notifications/initialized"}`, `{"jsonrpc":"2.0","id":2,"method":"tools/list"}`} {
		resp, err := c.post(ctx, []byte(msg))
		if err != nil {
			return nil, err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	return c, nil
}

func (c *client) post(ctx context.Context, body []byte) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Mcp-Protocol-Version", "2025-11-25")
	if c.session != "" {
		req.Header.Set("Mcp-Session-Id", c.session)
	}
	return c.http.Do(req)
}

// forCell returns a copy of c calling bench_text for the cell's output.
func (c *client) forCell(cl cell) *client {
	cc := *c
	cc.size, cc.kind = cl.size, cl.kind
	return &cc
}

// withheldMarker is in mcpgate's safety notice (extproc/content.go).
const withheldMarker = "mcpgate withheld this"

// call makes one tools/call and checks the answer is the whole, unchanged
// text (the end marker near the end, and a plausible length) or mcpgate's
// safety notice, which it reports as withheld. buf is reused between calls
// so the client's own garbage stays small.
func (c *client) call(ctx context.Context, buf *bytes.Buffer) (withheld bool, err error) {
	body := fmt.Appendf(nil, `{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"bench_text","arguments":{"size":%d,"kind":%q}}}`,
		c.ids.Add(1)+10, c.size, c.kind)
	resp, err := c.post(ctx, body)
	if err != nil {
		return false, err
	}
	buf.Reset()
	_, err = buf.ReadFrom(resp.Body)
	resp.Body.Close()
	if err != nil {
		return false, fmt.Errorf("read body: %w", err)
	}
	b := buf.Bytes()
	if resp.StatusCode != http.StatusOK {
		return false, fmt.Errorf("status %d: %.200s", resp.StatusCode, b)
	}
	if len(b) < 2048 && bytes.Contains(b, []byte(withheldMarker)) {
		return true, nil
	}
	// JSON escaping makes the body longer than the text, up to 6 bytes a
	// byte for control characters; real text stays far below that.
	if len(b) < c.size || len(b) > 2*c.size+1024 || !bytes.Contains(b[max(0, len(b)-256):], []byte(endMarker)) {
		return false, fmt.Errorf("unexpected body of %d bytes: %.200s", len(b), b)
	}
	return false, nil
}

// sample is one measurement of one setup and one cell.
type sample struct {
	p50, p99   time.Duration   // sequential calls: latency without queueing
	throughput float64         // calls per second with n concurrent clients
	cpu        []time.Duration // per call in the throughput phase: Envoy's, then the processor's
	calls      int             // answered calls, both phases
	withheld   int             // of which mcpgate replaced the text with its notice
	errors     int
	firstErr   error
}

// measure runs the latency phase (one client, calls one after another)
// then the throughput phase (clients concurrent calls, closed loop).
func measure(ctx context.Context, c *client, calls int, dur time.Duration, clients int, pids []int) sample {
	var s sample
	var buf bytes.Buffer
	lat := make([]time.Duration, 0, calls)
	stop := time.Now().Add(dur)
	for i := 0; i < calls && time.Now().Before(stop); i++ {
		t0 := time.Now()
		w, err := c.call(ctx, &buf)
		if err != nil {
			s.errors++
			s.firstErr = cmp(s.firstErr, err)
			continue
		}
		lat = append(lat, time.Since(t0))
		s.calls++
		if w {
			s.withheld++
		}
	}
	s.p50, s.p99 = percentile(lat, 0.50), percentile(lat, 0.99)

	var done, failed, withheld atomic.Int64
	var mu sync.Mutex
	var wg sync.WaitGroup
	cpu0 := cpuTimes(pids)
	t0 := time.Now()
	end := t0.Add(dur)
	for range clients {
		wg.Go(func() {
			var buf bytes.Buffer
			for time.Now().Before(end) && ctx.Err() == nil {
				w, err := c.call(ctx, &buf)
				if err != nil {
					failed.Add(1)
					mu.Lock()
					s.firstErr = cmp(s.firstErr, err)
					mu.Unlock()
					continue
				}
				done.Add(1)
				if w {
					withheld.Add(1)
				}
			}
		})
	}
	wg.Wait()
	s.throughput = float64(done.Load()) / time.Since(t0).Seconds()
	s.errors += int(failed.Load())
	s.calls += int(done.Load())
	s.withheld += int(withheld.Load())
	for i, c := range cpuTimes(pids) {
		if n := done.Load(); n > 0 && cpu0[i] >= 0 && c >= 0 {
			s.cpu = append(s.cpu, (c-cpu0[i])/time.Duration(n))
		}
	}
	return s
}

// cpuTimes reads each process's CPU time; -1 where it cannot.
func cpuTimes(pids []int) []time.Duration {
	out := make([]time.Duration, len(pids))
	for i, pid := range pids {
		var err error
		if out[i], err = cpuTime(pid); err != nil {
			out[i] = -1
		}
	}
	return out
}

func cmp(first, err error) error {
	if first != nil {
		return first
	}
	return err
}

func percentile(d []time.Duration, q float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[min(len(s)-1, int(q*float64(len(s))))]
}

func formatName(sse bool) string {
	if sse {
		return "SSE"
	}
	return "JSON"
}

func sizeName(n int) string {
	switch {
	case n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d B", n)
}

func parseSizes(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		var n int
		var unit string
		if _, err := fmt.Sscanf(strings.TrimSpace(f), "%d%s", &n, &unit); err != nil && unit == "" {
			if _, err := fmt.Sscanf(strings.TrimSpace(f), "%d", &n); err != nil {
				return nil, fmt.Errorf("size %q: %w", f, err)
			}
		}
		switch strings.ToLower(unit) {
		case "":
		case "k", "kib":
			n <<= 10
		case "m", "mib":
			n <<= 20
		default:
			return nil, fmt.Errorf("size %q: unit must be k or m", f)
		}
		out = append(out, n)
	}
	return out, nil
}
