package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpgate/mcpgate/detectors"
	"github.com/mcpgate/mcpgate/pinning"
)

// maxPages bounds pagination, so a server handing out cursors forever
// cannot keep `mcpgate pin` busy until the timeout.
const maxPages = 1000

// maxWireMessage bounds what the recorder buffers of one response.
const maxWireMessage = 64 << 20

const pinUsage = `usage: mcpgate pin [flags] URL -o FILE       pin a server's tools into a lockfile
       mcpgate pin [flags] --check FILE [URL]  compare the server with the lockfile
       mcpgate pin [flags] --update FILE [URL] re-approve: rewrite the lockfile from the server

URL is the server's Streamable HTTP endpoint; --check and --update default
to the URL recorded in the lockfile. --check prints one change per line
(severity kind tool: detail). Exit 0: no change at or above --fail-on;
1: such a change; 2: error (connection, bad lockfile, flags).

`

// pin implements `mcpgate pin`.
func pin(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("mcpgate pin", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("o", "", "write a new lockfile to `FILE`")
	check := fs.String("check", "", "compare the server with lockfile `FILE`")
	update := fs.String("update", "", "rewrite lockfile `FILE` from the server, printing the changes accepted")
	failOn := fs.String("fail-on", "high", "with --check, the lowest change severity that exits 1: low, medium, high")
	timeout := fs.Duration("timeout", 30*time.Second, "for connecting and listing tools")
	fs.Usage = func() {
		fmt.Fprint(stderr, pinUsage)
		fs.PrintDefaults()
	}
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return 2
	}
	modes := 0
	for _, f := range []string{*out, *check, *update} {
		if f != "" {
			modes++
		}
	}
	if modes != 1 || len(pos) > 1 || (*out != "" && len(pos) != 1) {
		fs.Usage()
		return 2
	}
	threshold, err := detectors.ParseSeverity(*failOn)
	if err != nil {
		fmt.Fprintf(stderr, "mcpgate pin: --fail-on: %v\n", err)
		return 2
	}
	url := ""
	if len(pos) == 1 {
		url = pos[0]
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	p := pinner{url: url, stdout: stdout, stderr: stderr}
	switch {
	case *out != "":
		err = p.create(ctx, *out)
	case *check != "":
		var worst detectors.Severity
		worst, err = p.check(ctx, *check)
		if err == nil && worst >= threshold {
			return 1
		}
	default:
		err = p.update(ctx, *update)
	}
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("%w (--timeout %s)", err, *timeout)
		}
		fmt.Fprintf(stderr, "mcpgate pin: %v\n", err)
		return 2
	}
	return 0
}

// parseInterspersed lets flags follow the URL (`pin URL -o FILE`), which
// the flag package alone stops at.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

type pinner struct {
	url            string
	stdout, stderr io.Writer
}

func (p pinner) create(ctx context.Context, file string) error {
	set, err := fetchSet(ctx, p.url)
	if err != nil {
		return err
	}
	lf := pinning.Lockfile{Server: p.url, Created: time.Now().UTC(), Set: set}
	if err := pinning.WriteLockfile(file, lf); err != nil {
		return err
	}
	fmt.Fprintf(p.stderr, "mcpgate pin: %s: %d tools, fingerprint %s, written to %s\n", p.url, len(set.Tools), set.Fingerprint, file)
	return nil
}

// check prints the changes between the lockfile and the live server and
// returns the highest severity among them.
func (p pinner) check(ctx context.Context, file string) (detectors.Severity, error) {
	lf, set, changes, err := p.compare(ctx, file)
	if err != nil {
		return 0, err
	}
	printChanges(p.stdout, changes)
	worst := pinning.MaxSeverity(changes)
	fmt.Fprintf(p.stderr, "mcpgate pin: %s against %s: %d changes (highest %s), fingerprint %s → %s\n",
		p.url, file, len(changes), severityText(worst), lf.Fingerprint, set.Fingerprint)
	return worst, nil
}

func (p pinner) update(ctx context.Context, file string) error {
	lf, set, changes, err := p.compare(ctx, file)
	if err != nil {
		return err
	}
	printChanges(p.stdout, changes)
	if len(changes) == 0 && lf.Fingerprint == set.Fingerprint && lf.Server == p.url {
		// Rewriting only the date would make a diff with nothing to review.
		fmt.Fprintf(p.stderr, "mcpgate pin: %s unchanged, %s left as it is\n", p.url, file)
		return nil
	}
	lf = pinning.Lockfile{Server: p.url, Created: time.Now().UTC(), Set: set}
	if err := pinning.WriteLockfile(file, lf); err != nil {
		return err
	}
	fmt.Fprintf(p.stderr, "mcpgate pin: %d changes accepted, %d tools, fingerprint %s, written to %s\n",
		len(changes), len(set.Tools), set.Fingerprint, file)
	return nil
}

// compare reads the lockfile, then lists the server (the lockfile's own
// URL unless one was given).
func (p *pinner) compare(ctx context.Context, file string) (pinning.Lockfile, pinning.Set, []pinning.Change, error) {
	lf, err := pinning.ReadLockfile(file)
	if err != nil {
		return pinning.Lockfile{}, pinning.Set{}, nil, err
	}
	if p.url == "" {
		p.url = lf.Server
	}
	if p.url == "" {
		return pinning.Lockfile{}, pinning.Set{}, nil, fmt.Errorf("%s records no server URL; give one", file)
	}
	set, err := fetchSet(ctx, p.url)
	if err != nil {
		return pinning.Lockfile{}, pinning.Set{}, nil, err
	}
	return lf, set, pinning.Diff(lf.Set, set), nil
}

func printChanges(w io.Writer, changes []pinning.Change) {
	for _, c := range changes {
		if c.Tool == "" {
			fmt.Fprintf(w, "%s %s: %s\n", c.Severity, c.Kind, c.Detail)
		} else {
			fmt.Fprintf(w, "%s %s %s: %s\n", c.Severity, c.Kind, c.Tool, c.Detail)
		}
	}
}

func severityText(s detectors.Severity) string {
	if s == 0 {
		return "none"
	}
	return s.String()
}

// fetchSet connects with the official SDK client and pins every tool
// (following pagination) and the server's instructions. Tools are pinned
// from the bytes on the wire, as the gateway sees them, not from the
// SDK's decoded structs: decoding turns 1.50 into 1.5, drops fields the
// SDK does not know and filters tools it finds invalid, and any of that
// would read as drift at the gateway.
func fetchSet(ctx context.Context, url string) (pinning.Set, error) {
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(24 * time.Hour)
	}
	rec := &wireRecorder{next: http.DefaultTransport, deadline: deadline, pending: map[jsonrpc.ID]bool{}}
	client := mcp.NewClient(&mcp.Implementation{Name: "mcpgate-pin", Version: "0.1.0"}, nil)
	cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{
		Endpoint:   url,
		HTTPClient: &http.Client{Transport: rec},
		// Server notifications are of no use to a one-shot listing.
		DisableStandaloneSSE: true,
	}, nil)
	if err != nil {
		return pinning.Set{}, fmt.Errorf("connect %s: %w", url, err)
	}
	defer cs.Close()
	instructions := ""
	if res := cs.InitializeResult(); res != nil {
		instructions = res.Instructions
	}
	var defs [][]byte
	cursor := ""
	seen := map[string]bool{}
	for page := 0; ; page++ {
		if page == maxPages {
			return pinning.Set{}, fmt.Errorf("tools/list %s: more than %d pages", url, maxPages)
		}
		if _, err := cs.ListTools(ctx, &mcp.ListToolsParams{Cursor: cursor}); err != nil {
			return pinning.Set{}, fmt.Errorf("tools/list %s: %w", url, err)
		}
		raw, ok := rec.take()
		if !ok {
			return pinning.Set{}, fmt.Errorf("tools/list %s: result not seen on the wire", url)
		}
		var res struct {
			Tools      []json.RawMessage `json:"tools"`
			NextCursor string            `json:"nextCursor"`
		}
		if err := json.Unmarshal(raw, &res); err != nil {
			return pinning.Set{}, fmt.Errorf("tools/list %s: %w", url, err)
		}
		for _, t := range res.Tools {
			defs = append(defs, t)
		}
		if res.NextCursor == "" {
			break
		}
		if seen[res.NextCursor] {
			return pinning.Set{}, fmt.Errorf("tools/list %s: cursor %q repeats", url, res.NextCursor)
		}
		seen[res.NextCursor] = true
		cursor = res.NextCursor
	}
	// Pinning the instructions even when empty means instructions that
	// appear later are a change.
	set, err := pinning.NewSet(defs, &instructions)
	if err != nil {
		return pinning.Set{}, fmt.Errorf("tools/list %s: %w", url, err)
	}
	return set, nil
}

// wireRecorder is an http.RoundTripper that notes the ids of tools/list
// requests and keeps the raw result of each matching response, JSON or
// SSE, while passing every byte through to the SDK unchanged.
type wireRecorder struct {
	next     http.RoundTripper
	deadline time.Time

	mu      sync.Mutex
	pending map[jsonrpc.ID]bool
	results []json.RawMessage
}

func (w *wireRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	// The SDK sends some requests (a cancellation notice, the closing
	// DELETE) on contexts of its own with their own timeouts: the
	// deadline keeps --timeout the bound on the whole run.
	ctx, cancel := context.WithDeadline(req.Context(), w.deadline)
	req = req.WithContext(ctx)
	if req.Method == http.MethodPost && req.Body != nil {
		body, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			cancel()
			return nil, err
		}
		if msg, err := jsonrpc.DecodeMessage(body); err == nil {
			if r, ok := msg.(*jsonrpc.Request); ok && r.Method == "tools/list" && r.ID.IsValid() {
				w.mu.Lock()
				w.pending[r.ID] = true
				w.mu.Unlock()
			}
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
		req.ContentLength = int64(len(body))
	}
	resp, err := w.next.RoundTrip(req)
	if err != nil {
		cancel()
		return nil, err
	}
	resp.Body = &teeBody{ReadCloser: resp.Body, w: w, cancel: cancel,
		sse: isSSE(resp.Header.Get("Content-Type")), done: req.Method != http.MethodPost}
	return resp, nil
}

// record keeps the result if data is the response to a tools/list.
func (w *wireRecorder) record(data []byte) {
	msg, err := jsonrpc.DecodeMessage(data)
	if err != nil {
		return
	}
	r, ok := msg.(*jsonrpc.Response)
	if !ok || r.Error != nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.pending[r.ID] {
		delete(w.pending, r.ID)
		w.results = append(w.results, r.Result)
	}
}

// take returns the oldest recorded result. ListTools returns only after
// the SDK read the response through teeBody, so it has been recorded.
func (w *wireRecorder) take() (json.RawMessage, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.results) == 0 {
		return nil, false
	}
	r := w.results[0]
	w.results = w.results[1:]
	return r, true
}

func isSSE(contentType string) bool {
	return strings.HasPrefix(strings.ToLower(strings.TrimSpace(contentType)), "text/event-stream")
}

// teeBody hands a response body to the SDK unchanged and parses a copy:
// one JSON-RPC message (or batch) for JSON, events for SSE.
type teeBody struct {
	io.ReadCloser
	w      *wireRecorder
	cancel context.CancelFunc // ends the request's deadline
	sse    bool
	buf    []byte // JSON: the body so far; SSE: the unfinished line
	data   []byte // SSE: the current event's data
	over   bool   // a message larger than maxWireMessage: not recorded
	done   bool
}

func (t *teeBody) Read(p []byte) (int, error) {
	n, err := t.ReadCloser.Read(p)
	if !t.done {
		t.feed(p[:n], err != nil)
	}
	return n, err
}

func (t *teeBody) Close() error {
	err := t.ReadCloser.Close()
	t.cancel()
	return err
}

func (t *teeBody) feed(chunk []byte, eof bool) {
	t.buf = append(t.buf, chunk...)
	if len(t.buf)+len(t.data) > maxWireMessage {
		t.buf, t.data, t.over = t.buf[:0], t.data[:0], true
	}
	if !t.sse {
		if eof {
			t.done = true
			if !t.over {
				t.recordJSON(t.buf)
			}
		}
		return
	}
	for {
		// SSE lines end in \r\n, \n or \r; a final \r may be half of a
		// \r\n still to come.
		i := bytes.IndexAny(t.buf, "\r\n")
		if i < 0 || (t.buf[i] == '\r' && i == len(t.buf)-1 && !eof) {
			break
		}
		line := t.buf[:i]
		next := i + 1
		if t.buf[i] == '\r' && next < len(t.buf) && t.buf[next] == '\n' {
			next++
		}
		t.line(line)
		t.buf = t.buf[next:]
	}
	if eof {
		t.done = true
		if len(t.buf) > 0 {
			t.line(t.buf)
		}
		t.line(nil) // the stream's end ends the last event
	}
}

// line handles one SSE line: data lines accumulate, an empty line ends
// the event.
func (t *teeBody) line(l []byte) {
	if len(l) == 0 {
		if len(t.data) > 0 && !t.over {
			t.w.record(t.data)
		}
		t.data, t.over = t.data[:0], false
		return
	}
	if v, ok := bytes.CutPrefix(l, []byte("data:")); ok {
		if len(t.data) > 0 {
			t.data = append(t.data, '\n')
		}
		t.data = append(t.data, bytes.TrimPrefix(v, []byte(" "))...)
	}
}

func (t *teeBody) recordJSON(body []byte) {
	body = bytes.TrimSpace(body)
	if len(body) > 0 && body[0] == '[' {
		var batch []json.RawMessage
		if json.Unmarshal(body, &batch) == nil {
			for _, m := range batch {
				t.w.record(m)
			}
		}
		return
	}
	t.w.record(body)
}
