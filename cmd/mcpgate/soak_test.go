package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/examples/mcpserver"
)

// TestSoak runs sustained mixed traffic through Envoy and an active
// mcpgate (detectors and pinning on) for a bounded time: clean calls,
// poisoned results and SSE progress streams, on JSON and SSE endpoints.
// Every answer is checked (no lost or crossed responses, poisoned results
// withheld, progress events complete and in order), and afterwards no
// ext_proc stream is left open, goroutines are back to where they were and
// the heap has not grown. MCPGATE_SOAK=10m runs it longer.
func TestSoak(t *testing.T) {
	envoyBinary(t)
	dur := 3 * time.Second
	if v := os.Getenv("MCPGATE_SOAK"); v != "" {
		var err error
		if dur, err = time.ParseDuration(v); err != nil {
			t.Fatalf("MCPGATE_SOAK: %v", err)
		}
	}
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	srv := httptest.NewServer(mcpserver.NewBackend().Handler())
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	backendPort, _ := strconv.Atoi(u.Port())
	// Only errors are logged, and Envoy's access log is discarded: the
	// captured output would otherwise grow with the traffic and hide the
	// heap readings.
	port, logs, _ := startMcpgate(t, "--mode", "active", "--log-level", "error")
	gw := startEnvoy(t, backendPort, port, "\"@type\": type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog",
		"\"@type\": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog\n              path: /dev/null")

	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 8}, Timeout: 20 * time.Second}
	defer hc.CloseIdleConnections()
	clients := []*soakClient{{hc: hc, url: gw + mcpserver.PathSSE, sse: true}, {hc: hc, url: gw + mcpserver.PathJSON}}
	for _, c := range clients {
		if err := c.handshake(); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 30 { // warm-up: pools, pins, lazily built state
		if err := clients[i%2].step(0, i); err != nil {
			t.Fatalf("warm-up: %v", err)
		}
	}
	settle(hc)
	g0, h0 := runtime.NumGoroutine(), heapInUse()

	var mu sync.Mutex
	var errs []error
	calls := 0
	var hMid uint64
	var wg sync.WaitGroup
	start := time.Now()
	for w := range 4 {
		wg.Go(func() {
			n := 0
			for time.Since(start) < dur {
				err := clients[(w+n)%2].step(w, n)
				n++
				mu.Lock()
				calls++
				if err != nil && len(errs) < 10 {
					errs = append(errs, err)
				}
				mu.Unlock()
			}
		})
	}
	time.Sleep(dur / 2)
	hMid = heapInUse()
	wg.Wait()
	for _, err := range errs {
		t.Error(err)
	}
	settle(hc)
	waitStreams(t)
	g1, h1 := runtime.NumGoroutine(), heapInUse()
	for deadline := time.Now().Add(5 * time.Second); g1 > g0+4 && time.Now().Before(deadline); g1 = runtime.NumGoroutine() {
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("soak %s: %d calls (%.0f/s); goroutines %d -> %d; heap in use %.1f -> %.1f (mid) -> %.1f MiB",
		dur, calls, float64(calls)/dur.Seconds(), g0, g1, mib(h0), mib(hMid), mib(h1))
	if g1 > g0+4 {
		t.Errorf("goroutines grew from %d to %d", g0, g1)
	}
	if h1 > h0+16<<20 {
		t.Errorf("heap grew from %.1f to %.1f MiB", mib(h0), mib(h1))
	}
	if strings.Contains(logs.String(), `"level":"ERROR"`) {
		t.Errorf("errors logged:\n%.2000s", logs.String())
	}
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }

func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// settle closes idle connections so their goroutines end before counting.
func settle(hc *http.Client) {
	hc.CloseIdleConnections()
	time.Sleep(200 * time.Millisecond)
}

type soakClient struct {
	hc      *http.Client
	url     string
	sse     bool
	session string
}

func (c *soakClient) post(body string) (*http.Response, []byte, error) {
	req, _ := http.NewRequest(http.MethodPost, c.url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Mcp-Protocol-Version", "2025-11-25")
	if c.session != "" {
		req.Header.Set("Mcp-Session-Id", c.session)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, b, err
}

func (c *soakClient) handshake() error {
	resp, _, err := c.post(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"soak","version":"0"}}}`)
	if err != nil {
		return err
	}
	if c.session = resp.Header.Get("Mcp-Session-Id"); c.session == "" {
		return fmt.Errorf("initialize: no session (status %d)", resp.StatusCode)
	}
	_, _, err = c.post(`{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	return err
}

// step makes call n of worker w: a clean echo with a unique text, a
// poisoned fetch_page, or (on SSE) a stream_story with progress.
func (c *soakClient) step(w, n int) error {
	id := w*1_000_000 + n + 10
	kind := n % 3
	if kind == 2 && !c.sse {
		kind = 0
	}
	var body string
	switch kind {
	case 0:
		body = fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"echo","arguments":{"text":"soak %d"}}}`, id, id)
	case 1:
		body = fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"fetch_page","arguments":{"url":"https://x.example/"}}}`, id)
	case 2:
		body = fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"stream_story","arguments":{"parts":3,"delay_ms":1},"_meta":{"progressToken":"p%d"}}}`, id, id)
	}
	resp, raw, err := c.post(body)
	if err != nil {
		return fmt.Errorf("call %d: %w", id, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("call %d: status %d %q", id, resp.StatusCode, raw)
	}
	msgs, err := messages(raw, c.sse)
	if err != nil {
		return fmt.Errorf("call %d: %w in %q", id, err, raw)
	}
	last := msgs[len(msgs)-1]
	if last.ID != strconv.Itoa(id) {
		return fmt.Errorf("call %d: answered with id %s", id, last.ID)
	}
	text := last.text()
	switch kind {
	case 0:
		if text != fmt.Sprintf("soak %d", id) {
			return fmt.Errorf("call %d: echo %q", id, text)
		}
	case 1:
		if !strings.Contains(text, "mcpgate withheld") || strings.Contains(text, "attacker") {
			return fmt.Errorf("call %d: fetch_page not withheld: %q", id, text)
		}
	case 2:
		var progress []float64
		for _, m := range msgs[:len(msgs)-1] {
			progress = append(progress, m.Params.Progress)
		}
		if fmt.Sprint(progress) != "[1 2 3]" || text != "story done: 3 parts" {
			return fmt.Errorf("call %d: progress %v then %q", id, progress, text)
		}
	}
	return nil
}

type rpcMessage struct {
	ID     string          `json:"-"`
	RawID  json.RawMessage `json:"id"`
	Params struct {
		Progress float64 `json:"progress"`
	} `json:"params"`
	Result struct {
		Content []struct {
			Text string `json:"text"`
		} `json:"content"`
	} `json:"result"`
}

func (m rpcMessage) text() string {
	if len(m.Result.Content) == 0 {
		return ""
	}
	return m.Result.Content[0].Text
}

// messages decodes a JSON body or every data event of an SSE body.
func messages(raw []byte, sse bool) ([]rpcMessage, error) {
	datas := [][]byte{raw}
	if sse {
		datas = nil
		for _, ev := range bytes.Split(raw, []byte("\n\n")) {
			for _, line := range bytes.Split(ev, []byte("\n")) {
				if d, ok := bytes.CutPrefix(line, []byte("data: ")); ok {
					datas = append(datas, d)
				}
			}
		}
	}
	var out []rpcMessage
	for _, d := range datas {
		var m rpcMessage
		if err := json.Unmarshal(d, &m); err != nil {
			return nil, err
		}
		m.ID = string(m.RawID)
		out = append(out, m)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no message")
	}
	return out, nil
}
