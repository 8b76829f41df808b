package extproc

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
)

// Hostile bodies for the bounds benchmarks. Each is a whole exchange's
// body of about size bytes.
var hostileBodies = map[string]func(size, depth int) (request, response string){
	// Nothing but brackets: refused by the depth check at depth 65.
	"brackets": func(size, _ int) (string, string) {
		b := nested(size/2, "[", "]", "")
		return b, b
	},
	// Nested objects depth deep, inside a valid message.
	"deep-objects": func(size, depth int) (string, string) {
		unit := nested(depth, `{"a":`, "}", `"x"`)
		body := strings.Repeat(unit+",", max(1, size/(len(unit)+1)))
		body = body[:len(body)-1]
		req := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"a":[` + body + `]}}}`
		resp := `{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"ok"}],"structuredContent":{"a":[` + body + `]}}}`
		return req, resp
	},
	// The most nesting the default bound admits, repeated: the walk's
	// worst case that is judged rather than refused.
	"max-depth-strings": func(size, _ int) (string, string) {
		unit := nested(58, "[", "]", `"text"`)
		body := strings.Repeat(unit+",", max(1, size/(len(unit)+1)))
		body = body[:len(body)-1]
		req := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"a":[` + body + `]}}}`
		resp := `{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"ok"}],"structuredContent":{"a":[` + body + `]}}}`
		return req, resp
	},
	// One long key above many strings: a path string per element would
	// copy the key once per string.
	"long-key": func(size, _ int) (string, string) {
		key := strings.Repeat("k", size/2)
		arr := strings.Repeat(`"s",`, max(1, size/2/4))
		arr = arr[:len(arr)-1]
		req := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"` + key + `":[` + arr + `]}}}`
		resp := `{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"ok"}],"structuredContent":{"` + key + `":[` + arr + `]}}}`
		return req, resp
	},
}

// runHostile sends one exchange through a stream in active mode with the
// detectors on: request, then a JSON response.
func runHostile(tb testing.TB, p *Policy, sc contentScanner, req, resp []byte) {
	st := newStream("bench", discardLogger(), p, sc, DefaultBackend)
	ctx := context.Background()
	for _, m := range []*extprocv3.ProcessingRequest{
		{Request: &extprocv3.ProcessingRequest_RequestBody{RequestBody: &extprocv3.HttpBody{Body: req, EndOfStream: true}}},
		respHeaders(":status", "200", "content-type", "application/json"),
		{Request: &extprocv3.ProcessingRequest_ResponseBody{ResponseBody: &extprocv3.HttpBody{Body: resp, EndOfStream: true}}},
	} {
		if _, err := st.handle(ctx, m); err != nil {
			tb.Fatal(err)
		}
	}
}

func benchPolicy(tb testing.TB) (*Policy, contentScanner) {
	p := testPolicy(Active)
	p.MaxBodyBytes = 8 << 20
	sc, err := p.newScanner()
	if err != nil {
		tb.Fatal(err)
	}
	return p, sc
}

// BenchmarkHostileDepth: time per exchange against nesting depth, for a
// response body of about 80 KB (the size of the 40,000-level body that
// used to exhaust memory) whose objects nest depth deep. Past the bound
// the body is refused after reading 65 levels, so time stays flat; below
// it time grows with the bytes, not with the depth squared.
func BenchmarkHostileDepth(b *testing.B) {
	p, sc := benchPolicy(b)
	for _, depth := range []int{10, 60, 100, 1000, 10000, 40000} {
		for _, part := range []string{"request", "response"} {
			req, resp := hostileBodies["deep-objects"](80<<10, depth)
			call := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo"}}`
			if part == "response" {
				req = call
			} else {
				resp = `{"jsonrpc":"2.0","id":1,"result":{"content":[]}}`
			}
			b.Run(fmt.Sprintf("%s/depth=%d", part, depth), func(b *testing.B) {
				b.SetBytes(int64(len(req) + len(resp)))
				b.ReportAllocs()
				for b.Loop() {
					runHostile(b, p, sc, []byte(req), []byte(resp))
				}
			})
		}
	}
}

// BenchmarkHostileSize: time per exchange against body size for each
// hostile shape; MB/s stays flat as the size grows (linear cost).
func BenchmarkHostileSize(b *testing.B) {
	p, sc := benchPolicy(b)
	for _, shape := range []string{"brackets", "deep-objects", "max-depth-strings", "long-key"} {
		for _, size := range []int{64 << 10, 256 << 10, 1 << 20, 4 << 20} {
			req, resp := hostileBodies[shape](size, 60)
			b.Run(fmt.Sprintf("%s/size=%dKiB", shape, size>>10), func(b *testing.B) {
				b.SetBytes(int64(len(req) + len(resp)))
				b.ReportAllocs()
				for b.Loop() {
					runHostile(b, p, sc, []byte(req), []byte(resp))
				}
			})
		}
	}
}

// BenchmarkHostileRSS runs one 4 MiB hostile request and response per
// shape in a fresh process (TestHostileRSSChild) and reports how far the
// process's peak RSS (VmHWM) rose above its RSS with the bodies already
// in memory: the memory the exchange itself costs. The target is under
// 64 MB for each.
func BenchmarkHostileRSS(b *testing.B) {
	for _, shape := range []string{"brackets", "deep-objects", "max-depth-strings", "long-key"} {
		for _, part := range []string{"request", "response"} {
			b.Run(shape+"/"+part, func(b *testing.B) {
				var growth float64
				for b.Loop() {
					cmd := exec.Command(os.Args[0], "-test.run=^TestHostileRSSChild$", "-test.count=1")
					cmd.Env = append(os.Environ(), "MCPGATE_RSS_CHILD="+shape+"/"+part)
					out, err := cmd.CombinedOutput()
					if err != nil {
						b.Fatalf("child: %v\n%s", err, out)
					}
					kib, ok := parseGrowth(string(out))
					if !ok {
						b.Fatalf("child printed no growth:\n%s", out)
					}
					growth = float64(kib) / 1024
				}
				b.ReportMetric(growth, "rss-growth-MiB")
			})
		}
	}
}

func parseGrowth(out string) (int, bool) {
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "rss_growth_kib "); ok {
			n, err := strconv.Atoi(v)
			return n, err == nil
		}
	}
	return 0, false
}

// TestHostileRSSChild is BenchmarkHostileRSS's subprocess; it does
// nothing in a normal test run.
func TestHostileRSSChild(t *testing.T) {
	which := os.Getenv("MCPGATE_RSS_CHILD")
	if which == "" {
		t.Skip("run by BenchmarkHostileRSS")
	}
	shape, part, _ := strings.Cut(which, "/")
	p, sc := benchPolicy(t)
	call := []byte(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo"}}`)
	small := []byte(`{"jsonrpc":"2.0","id":1,"result":{"content":[]}}`)
	runHostile(t, p, sc, call, small) // warm up the detectors' lazy state
	r, s := hostileBodies[shape](4<<20, 60)
	req, resp := call, small
	if part == "request" {
		req = []byte(r)
	} else {
		resp = []byte(s)
	}
	r, s = "", ""
	base := procStatusKiB(t, "VmRSS")
	runHostile(t, p, sc, req, resp)
	peak := procStatusKiB(t, "VmHWM")
	fmt.Printf("rss_growth_kib %d\n", max(0, peak-base))
}

func procStatusKiB(t testing.TB, field string) int {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			return n
		}
	}
	t.Fatalf("no %s in /proc/self/status", field)
	return 0
}
