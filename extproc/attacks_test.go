package extproc

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
)

// attackCase is one line of testdata/attacks/protocol*.jsonl: an exchange an
// attacker controls one side of, and what active mode must do with it.
type attackCase struct {
	Name  string `json:"name"`
	Class int    `json:"class"` // issue 14's class
	// Request is the client's body; Headers its request headers (key,
	// value, …). Empty: the response arrives unasked (a GET stream).
	Request string   `json:"request"`
	Headers []string `json:"headers"`
	// Response is the backend's message; SSE wraps it in one event.
	Response string `json:"response"`
	SSE      bool   `json:"sse"`
	// Verdict in active mode: reject (the request is answered by mcpgate
	// with Status and Code), withhold (the response is replaced and none
	// of WantNot reaches the client) or pass (nothing changes: a control
	// case that must not be flagged).
	Verdict string   `json:"verdict"`
	Status  int      `json:"status"`
	Code    int      `json:"code"`
	Want    []string `json:"want"`
	WantNot []string `json:"want_not"`
}

func loadAttacks(t *testing.T) []attackCase {
	t.Helper()
	files, err := filepath.Glob("testdata/attacks/protocol*.jsonl")
	if err != nil || len(files) == 0 {
		t.Fatalf("no attack corpus: %v", err)
	}
	var cases []attackCase
	names := map[string]bool{}
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(nil, 1<<20)
		for n := 1; sc.Scan(); n++ {
			line := strings.TrimSpace(sc.Text())
			if line == "" || strings.HasPrefix(line, "//") {
				continue
			}
			var c attackCase
			dec := json.NewDecoder(strings.NewReader(line))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&c); err != nil {
				t.Fatalf("%s:%d: %v", f, n, err)
			}
			if names[c.Name] {
				t.Fatalf("%s:%d: duplicate case name %q", f, n, c.Name)
			}
			names[c.Name] = true
			cases = append(cases, c)
		}
		fh.Close()
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
	}
	return cases
}

var (
	scannerOnce sync.Once
	scannerErr  error
	scanner     contentScanner
)

// corpusScanner builds the detectors once: every case uses the default
// detector settings, and building them is most of a case's time.
func corpusScanner(t *testing.T, p *Policy) contentScanner {
	t.Helper()
	scannerOnce.Do(func() { scanner, scannerErr = p.newScanner() })
	if scannerErr != nil {
		t.Fatal(scannerErr)
	}
	return scanner
}

var wouldAct = regexp.MustCompile(`"would_action":"(reject|mutate|withhold)"`)

// TestAttackCorpus runs every case through the stream state machine in
// both modes: active must give the case's verdict, passive must change
// nothing and log what active mode would have done.
func TestAttackCorpus(t *testing.T) {
	cases := loadAttacks(t)
	if len(cases) < 100 {
		t.Fatalf("corpus has %d cases, want at least 100", len(cases))
	}
	perClass := map[int]int{}
	for _, c := range cases {
		perClass[c.Class]++
		t.Run(c.Name, func(t *testing.T) {
			for _, mode := range []Mode{Active, Passive} {
				runAttack(t, c, mode)
			}
		})
	}
	for _, class := range []int{1, 4, 5, 6, 7} {
		if perClass[class] == 0 {
			t.Errorf("no case of class %d", class)
		}
	}
	t.Logf("cases per class: %v", perClass)
}

func runAttack(t *testing.T, c attackCase, mode Mode) {
	t.Helper()
	p := testPolicy(mode)
	p.MaxBodyBytes = 1 << 20
	var msgs []*extprocv3.ProcessingRequest
	if c.Request != "" || len(c.Headers) > 0 {
		msgs = append(msgs, reqHeaders(c.Headers...))
	}
	if c.Request != "" {
		msgs = append(msgs, reqBody(c.Request))
	}
	sent := c.Response
	if c.Response != "" {
		ct := "application/json"
		if c.SSE {
			ct, sent = "text/event-stream", "event: message\ndata: "+c.Response+"\n\n"
		}
		msgs = append(msgs, respHeaders(":status", "200", "content-type", ct), respBody(sent, true))
	}
	replies, logs := driveWith(t, p, corpusScanner(t, p), msgs...)
	var rejected *extprocv3.ImmediateResponse
	var got []byte
	for i, r := range replies {
		if ir := r.GetImmediateResponse(); ir != nil && rejected == nil {
			rejected = ir
		}
		if _, ok := r.Response.(*extprocv3.ProcessingResponse_ResponseBody); ok {
			if b, ok := replaced(r); ok {
				got = append(got, b...)
			} else {
				got = append(got, msgs[i].GetResponseBody().Body...)
			}
		}
	}
	if mode == Passive {
		if rejected != nil {
			t.Fatalf("passive: rejected with %d %s", rejected.Status.Code, rejected.Body)
		}
		if string(got) != sent {
			t.Fatalf("passive: client gets %q, backend sent %q", got, sent)
		}
		if flagged := wouldAct.MatchString(logs); flagged != (c.Verdict != "pass") {
			t.Fatalf("passive: would_action logged = %v for verdict %s; log:\n%s", flagged, c.Verdict, logs)
		}
		return
	}
	switch c.Verdict {
	case "reject":
		if rejected == nil {
			t.Fatalf("active: passed, want %d %d; log:\n%s", c.Status, c.Code, logs)
		}
		if int(rejected.Status.Code) != c.Status || !strings.Contains(string(rejected.Body), `"code":`+itoa(c.Code)) {
			t.Fatalf("active: got %d %s, want %d with code %d", rejected.Status.Code, rejected.Body, c.Status, c.Code)
		}
		got = rejected.Body
	case "withhold":
		if rejected != nil {
			t.Fatalf("active: request rejected with %s, want the response withheld", rejected.Body)
		}
		if string(got) == sent {
			t.Fatalf("active: response passed unchanged; log:\n%s", logs)
		}
	case "pass":
		if rejected != nil || string(got) != sent {
			t.Fatalf("active: changed a clean exchange: rejected %v, client gets %q; log:\n%s", rejected != nil, got, logs)
		}
	default:
		t.Fatalf("unknown verdict %q", c.Verdict)
	}
	for _, w := range c.Want {
		if !strings.Contains(string(got), w) {
			t.Errorf("active: client gets %s, lacking %s", got, w)
		}
	}
	for _, w := range c.WantNot {
		if strings.Contains(string(got), w) {
			t.Errorf("active: client gets %s, which still holds %s", got, w)
		}
	}
}
