package extproc

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
)

// framingCase is one line of testdata/attacks/framing_*.jsonl: an exchange
// whose framing, content type or nesting a client may read differently
// from a naive gateway, and what active mode must do with it.
type framingCase struct {
	Name        string      `json:"name"`
	Method      string      `json:"method"`       // default POST
	Request     string      `json:"request"`      // default: a tools/call of echo, id 1
	RequestType string      `json:"request_type"` // default application/json
	Headers     [][2]string `json:"headers"`      // response headers; :status defaults to 200
	EOSHeaders  bool        `json:"eos_headers"`  // the response has no body
	Body        string      `json:"body"`
	Public      string      `json:"public"`   // the route's public URL, for URL rewriting
	Upstream    string      `json:"upstream"` // the backend's URL
	// Active is the verdict in active mode: pass (unchanged), reframe
	// (unchanged but for an LF after each event's lone CR), withhold
	// (the poisoned text replaced by a notice), refuse (a JSON-RPC error
	// instead of the message) or rewrite (changed, containing Want).
	Active string `json:"active"`
	Want   string `json:"want"` // a substring of what the client gets in active mode
}

// expandTemplates builds the bodies too large or too regular to write out.
var framingTemplate = regexp.MustCompile(`\{\{(INJ|DEEP|DEEPOBJ|OPEN)(?::(\d+))?\}\}`)

func expandFraming(s string) string {
	return framingTemplate.ReplaceAllStringFunc(s, func(m string) string {
		sub := framingTemplate.FindStringSubmatch(m)
		n, _ := strconv.Atoi(sub[2])
		switch sub[1] {
		case "INJ":
			return injection
		case "DEEP":
			return nested(n, "[", "]", "")
		case "DEEPOBJ":
			return nested(n, `{"a":`, "}", "1")
		default:
			return strings.Repeat("[", n)
		}
	})
}

func loadFramingCorpus(t *testing.T) []framingCase {
	t.Helper()
	files, err := filepath.Glob("testdata/attacks/framing_*.jsonl")
	if err != nil || len(files) == 0 {
		t.Fatalf("no framing corpus: %v", err)
	}
	var out []framingCase
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(nil, 1<<20)
		for line := 1; sc.Scan(); line++ {
			var c framingCase
			if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
				t.Fatalf("%s:%d: %v", f, line, err)
			}
			switch c.Active {
			case "pass", "reframe", "withhold", "refuse", "rewrite":
			default:
				t.Fatalf("%s:%d: verdict %q", f, line, c.Active)
			}
			c.Request, c.Body = expandFraming(c.Request), expandFraming(c.Body)
			out = append(out, c)
		}
		fh.Close()
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// framingOutcome is what the client got.
type framingOutcome struct {
	rejected bool   // an immediate reply replaced the exchange
	body     []byte // the reply, or the response body as the client got it
	logs     string
}

func runFraming(t *testing.T, c framingCase, mode Mode) framingOutcome {
	t.Helper()
	p := testPolicy(mode)
	p.MaxBodyBytes = DefaultMaxBodyBytes
	sc, err := p.newScanner()
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	st := newStream("corpus", slog.New(slog.NewJSONHandler(&logs, nil)), p, sc, DefaultBackend)
	if c.Upstream != "" {
		st.oauth.public, _ = url.Parse(c.Public)
		st.oauth.upstream, _ = url.Parse(c.Upstream)
	}
	ctx := context.Background()
	step := func(m *extprocv3.ProcessingRequest) *extprocv3.ProcessingResponse {
		r, err := st.handle(ctx, m)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	method, rtype := c.Method, c.RequestType
	if method == "" {
		method = "POST"
	}
	if rtype == "" {
		rtype = "application/json"
	}
	step(reqHeaders(":method", method, "content-type", rtype))
	if method == "POST" {
		req := c.Request
		if req == "" {
			req = `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo"}}`
		}
		if ir := step(reqBody(req)).GetImmediateResponse(); ir != nil {
			return framingOutcome{rejected: true, body: ir.Body, logs: logs.String()}
		}
	}
	if c.Request != "" && len(c.Headers) == 0 && c.Body == "" {
		return framingOutcome{logs: logs.String()} // a request case: it passed
	}
	kv := []string{}
	status := false
	for _, h := range c.Headers {
		kv = append(kv, h[0], h[1])
		status = status || h[0] == ":status"
	}
	if !status {
		kv = append(kv, ":status", "200")
	}
	hm := respHeaders(kv...)
	hm.GetResponseHeaders().EndOfStream = c.EOSHeaders
	if ir := step(hm).GetImmediateResponse(); ir != nil {
		return framingOutcome{rejected: true, body: ir.Body, logs: logs.String()}
	}
	if c.EOSHeaders || st.respMode == bodyNone {
		return framingOutcome{body: []byte(c.Body), logs: logs.String()} // Envoy sends the body on unread
	}
	var msgs []*extprocv3.ProcessingRequest
	if st.respMode == bodyStreamed {
		msgs = []*extprocv3.ProcessingRequest{respBody(c.Body, false), respBody("", true)}
	} else {
		msgs = []*extprocv3.ProcessingRequest{respBody(c.Body, true)}
	}
	var out []byte
	for _, m := range msgs {
		r := step(m)
		if mut := r.GetResponseBody().GetResponse().GetBodyMutation(); mut != nil {
			out = append(out, mut.GetBody()...)
		} else {
			out = append(out, m.GetResponseBody().GetBody()...)
		}
	}
	return framingOutcome{body: out, logs: logs.String()}
}

// TestFramingCorpus runs every framing and depth attack in both modes:
// active mode must reach the case's verdict; passive mode must deliver
// the exchange unchanged and log what active mode would have done.
func TestFramingCorpus(t *testing.T) {
	cases := loadFramingCorpus(t)
	if len(cases) < 50 {
		t.Fatalf("%d framing cases, want at least 50", len(cases))
	}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			got := runFraming(t, c, Active)
			changed := got.rejected || !bytes.Equal(got.body, []byte(c.Body))
			leaked := bytes.Contains(got.body, []byte("attacker.example"))
			switch c.Active {
			case "pass":
				if changed {
					t.Fatalf("active changed a clean exchange: %.300q", got.body)
				}
			case "reframe":
				if want := reframed([]byte(c.Body)); got.rejected || !bytes.Equal(got.body, want) {
					t.Fatalf("active sent %.300q, want the stream reframed: %.300q", got.body, want)
				}
			case "withhold":
				if got.rejected || !changed || leaked || !bytes.Contains(got.body, []byte("mcpgate withheld")) {
					t.Fatalf("active did not withhold the poisoned text: rejected %v, %.300q", got.rejected, got.body)
				}
			case "refuse":
				if !changed || leaked || !(got.rejected || bytes.Contains(got.body, []byte(`"code":-32`))) {
					t.Fatalf("active did not refuse: rejected %v, %.300q", got.rejected, got.body)
				}
			case "rewrite":
				if !changed || got.rejected {
					t.Fatalf("active did not rewrite: %.300q", got.body)
				}
			}
			if c.Want != "" && !bytes.Contains(got.body, []byte(c.Want)) {
				t.Fatalf("active reply %.300q lacks %q", got.body, c.Want)
			}

			passive := runFraming(t, c, Passive)
			if c.Active == "rewrite" {
				// A transport fix, like the OAuth metadata's: both modes.
				if !bytes.Equal(passive.body, got.body) {
					t.Fatalf("passive rewrote to %.300q, active to %.300q", passive.body, got.body)
				}
				return
			}
			if passive.rejected || !bytes.Equal(passive.body, []byte(c.Body)) {
				t.Fatalf("passive changed the exchange: rejected %v, %.300q", passive.rejected, passive.body)
			}
			if c.Active != "pass" && c.Active != "reframe" && !wouldAct.MatchString(passive.logs) {
				t.Fatalf("passive logged no would_action: %.500s", passive.logs)
			}
		})
	}
}
