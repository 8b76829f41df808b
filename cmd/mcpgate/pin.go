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
	lf, err := fetchPins(ctx, p.url)
	if err != nil {
		return err
	}
	lf.Created = time.Now().UTC()
	if err := pinning.WriteLockfile(file, lf); err != nil {
		return err
	}
	fmt.Fprintf(p.stderr, "mcpgate pin: %s: %s, fingerprint %s, written to %s\n", p.url, counts(lf), lf.Fingerprint, file)
	return nil
}

// check prints the changes between the lockfile and the live server and
// returns the highest severity among them.
func (p pinner) check(ctx context.Context, file string) (detectors.Severity, error) {
	lf, live, changes, err := p.compare(ctx, file)
	if err != nil {
		return 0, err
	}
	printChanges(p.stdout, changes)
	worst := pinning.MaxSeverity(changes)
	fmt.Fprintf(p.stderr, "mcpgate pin: %s against %s: %d changes (highest %s), fingerprint %s → %s\n",
		p.url, file, len(changes), severityText(worst), lf.Fingerprint, live.Fingerprint)
	return worst, nil
}

func (p pinner) update(ctx context.Context, file string) error {
	lf, live, changes, err := p.compare(ctx, file)
	if err != nil {
		return err
	}
	printChanges(p.stdout, changes)
	if len(changes) == 0 && samePins(lf, live) && lf.Server == p.url {
		// Rewriting only the date would make a diff with nothing to review.
		fmt.Fprintf(p.stderr, "mcpgate pin: %s unchanged, %s left as it is\n", p.url, file)
		return nil
	}
	live.Created = time.Now().UTC()
	if err := pinning.WriteLockfile(file, live); err != nil {
		return err
	}
	fmt.Fprintf(p.stderr, "mcpgate pin: %d changes accepted, %s, fingerprint %s, written to %s\n",
		len(changes), counts(live), live.Fingerprint, file)
	return nil
}

// compare reads the lockfile, then lists the server (the lockfile's own
// URL unless one was given).
func (p *pinner) compare(ctx context.Context, file string) (pinning.Lockfile, pinning.Lockfile, []pinning.Change, error) {
	lf, err := pinning.ReadLockfile(file)
	if err != nil {
		return pinning.Lockfile{}, pinning.Lockfile{}, nil, err
	}
	if p.url == "" {
		p.url = lf.Server
	}
	if p.url == "" {
		return pinning.Lockfile{}, pinning.Lockfile{}, nil, fmt.Errorf("%s records no server URL; give one", file)
	}
	live, err := fetchPins(ctx, p.url)
	if err != nil {
		return pinning.Lockfile{}, pinning.Lockfile{}, nil, err
	}
	return lf, live, diffLockfiles(lf, live), nil
}

// diffLockfiles compares what two lockfiles pin: tools and instructions,
// prompts, resource templates.
func diffLockfiles(old, cur pinning.Lockfile) []pinning.Change {
	changes := pinning.Diff(old.Set, cur.Set)
	changes = append(changes, diffEntries("prompt:", old.Prompts, cur.Prompts)...)
	return append(changes, diffEntries("resource template:", old.ResourceTemplates, cur.ResourceTemplates)...)
}

// diffEntries compares optional prompt or resource-template pins, naming
// entries with a prefix so they do not read as tools.
func diffEntries(prefix string, old, cur *pinning.Set) []pinning.Change {
	if old == nil || cur == nil {
		return nil // not listed on one side: nothing to compare
	}
	cs := pinning.Diff(*old, *cur)
	for i := range cs {
		cs[i].Tool = prefix + cs[i].Tool
	}
	return cs
}

func samePins(a, b pinning.Lockfile) bool {
	fp := func(s *pinning.Set) string {
		if s == nil {
			return ""
		}
		return s.Fingerprint
	}
	return a.Fingerprint == b.Fingerprint && fp(a.Prompts) == fp(b.Prompts) && fp(a.ResourceTemplates) == fp(b.ResourceTemplates)
}

// counts says what a lockfile pins, for the summary line.
func counts(lf pinning.Lockfile) string {
	out := fmt.Sprintf("%d tools", len(lf.Tools))
	if lf.Prompts != nil {
		out += fmt.Sprintf(", %d prompts", len(lf.Prompts.Tools))
	}
	if lf.ResourceTemplates != nil {
		out += fmt.Sprintf(", %d resource templates", len(lf.ResourceTemplates.Tools))
	}
	return out
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

// fetchPins connects with the official SDK client and pins every tool
// (following pagination), the server's instructions and, when the server
// offers them, its prompts and resource templates. Entries are pinned from
// the bytes on the wire, as the gateway sees them, not from the SDK's
// decoded structs: decoding turns 1.50 into 1.5, drops fields the SDK does
// not know and filters tools it finds invalid, and any of that would read
// as drift at the gateway.
func fetchPins(ctx context.Context, url string) (pinning.Lockfile, error) {
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
		return pinning.Lockfile{}, fmt.Errorf("connect %s: %w", url, err)
	}
	defer cs.Close()
	instructions := ""
	var caps *mcp.ServerCapabilities
	if res := cs.InitializeResult(); res != nil {
		instructions, caps = res.Instructions, res.Capabilities
	}
	defs, err := listAll(rec, url, "tools/list", "tools", func(cursor string) error {
		_, err := cs.ListTools(ctx, &mcp.ListToolsParams{Cursor: cursor})
		return err
	})
	if err != nil {
		return pinning.Lockfile{}, err
	}
	// Pinning the instructions even when empty means instructions that
	// appear later are a change.
	set, err := pinning.NewSet(defs, &instructions)
	if err != nil {
		return pinning.Lockfile{}, fmt.Errorf("tools/list %s: %w", url, err)
	}
	lf := pinning.Lockfile{Server: url, Set: set}
	if caps != nil && caps.Prompts != nil {
		defs, err := listAll(rec, url, "prompts/list", "prompts", func(cursor string) error {
			_, err := cs.ListPrompts(ctx, &mcp.ListPromptsParams{Cursor: cursor})
			return err
		})
		if err != nil {
			return pinning.Lockfile{}, err
		}
		if lf.Prompts, err = entrySet(defs, pinning.PromptFields); err != nil {
			return pinning.Lockfile{}, fmt.Errorf("prompts/list %s: %w", url, err)
		}
	}
	if caps != nil && caps.Resources != nil {
		defs, err := listAll(rec, url, "resources/templates/list", "resourceTemplates", func(cursor string) error {
			_, err := cs.ListResourceTemplates(ctx, &mcp.ListResourceTemplatesParams{Cursor: cursor})
			return err
		})
		if err != nil {
			return pinning.Lockfile{}, err
		}
		if lf.ResourceTemplates, err = entrySet(defs, pinning.ResourceTemplateFields); err != nil {
			return pinning.Lockfile{}, fmt.Errorf("resources/templates/list %s: %w", url, err)
		}
	}
	return lf, nil
}

func entrySet(defs [][]byte, fields []string) (*pinning.Set, error) {
	s, err := pinning.NewEntrySet(defs, fields)
	return &s, err
}

// listAll follows a list method's pagination, returning the raw entries
// of the result field as they came over the wire.
func listAll(rec *wireRecorder, url, method, field string, list func(cursor string) error) ([][]byte, error) {
	var defs [][]byte
	cursor := ""
	seen := map[string]bool{}
	for page := 0; ; page++ {
		if page == maxPages {
			return nil, fmt.Errorf("%s %s: more than %d pages", method, url, maxPages)
		}
		if err := list(cursor); err != nil {
			return nil, fmt.Errorf("%s %s: %w", method, url, err)
		}
		raw, ok := rec.take()
		if !ok {
			return nil, fmt.Errorf("%s %s: result not seen on the wire", method, url)
		}
		var res struct {
			NextCursor string `json:"nextCursor"`
		}
		if err := json.Unmarshal(raw, &res); err != nil {
			return nil, fmt.Errorf("%s %s: %w", method, url, err)
		}
		items, err := rawField(raw, field)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", method, url, err)
		}
		defs = append(defs, items...)
		if res.NextCursor == "" {
			return defs, nil
		}
		if seen[res.NextCursor] {
			return nil, fmt.Errorf("%s %s: cursor %q repeats", method, url, res.NextCursor)
		}
		seen[res.NextCursor] = true
		cursor = res.NextCursor
	}
}

// rawField returns the elements of the array member field of a result.
func rawField(raw json.RawMessage, field string) ([][]byte, error) {
	var members map[string]json.RawMessage
	if err := json.Unmarshal(raw, &members); err != nil {
		return nil, err
	}
	var items []json.RawMessage
	if v, ok := members[field]; ok {
		if err := json.Unmarshal(v, &items); err != nil {
			return nil, fmt.Errorf("%s: %w", field, err)
		}
	}
	out := make([][]byte, len(items))
	for i, it := range items {
		out[i] = it
	}
	return out, nil
}

// pinnedMethods are the list requests whose results pin records.
var pinnedMethods = map[string]bool{"tools/list": true, "prompts/list": true, "resources/templates/list": true}

// wireRecorder is an http.RoundTripper that notes the ids of list
// requests and keeps the raw result of each matching response, JSON or
// SSE, while passing every byte through to the SDK unchanged.
type wireRecorder struct {
	next     http.RoundTripper
	deadline time.Time

	// methods are the requests whose results are kept; nil: pinnedMethods.
	methods map[string]bool

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
			if r, ok := msg.(*jsonrpc.Request); ok && w.keeps(r.Method) && r.ID.IsValid() {
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
	// The legacy SSE transport answers on its GET stream.
	resp.Body = &teeBody{ReadCloser: resp.Body, w: w, cancel: cancel,
		sse: isSSE(resp.Header.Get("Content-Type")), done: req.Method != http.MethodPost && req.Method != http.MethodGet}
	return resp, nil
}

func (w *wireRecorder) keeps(method string) bool {
	if w.methods == nil {
		return pinnedMethods[method]
	}
	return w.methods[method]
}

// record keeps the result if data is the response to a list request.
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
