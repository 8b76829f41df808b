package extproc

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"

	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
)

// benchExchange runs one full exchange (request body, response headers,
// response body) through a fresh stream, as Process does per HTTP request.
func benchExchange(b *testing.B, scan bool, msgs []*extprocv3.ProcessingRequest) {
	p := testPolicy(Active)
	p.MaxBodyBytes = DefaultMaxBodyBytes // testPolicy's small limit would make 16 KiB SSE events oversized
	p.Detectors.Disabled = !scan
	sc, err := p.newScanner()
	if err != nil {
		b.Fatal(err)
	}
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	var n int64
	for _, m := range msgs {
		n += int64(len(m.GetRequestBody().GetBody()) + len(m.GetResponseBody().GetBody()))
	}
	b.SetBytes(n)
	b.ReportAllocs()
	ctx := context.Background()
	for b.Loop() {
		st := newStream("bench", log, p, sc, DefaultBackend)
		for _, m := range msgs {
			if _, err := st.handle(ctx, m); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// benignText is prose-like tool output of about size bytes.
func benignText(size int) string {
	const para = "The quarterly report shows revenue grew in every region, led by strong demand for the new storage line. "
	return strings.Repeat(para, size/len(para)+1)[:size]
}

func BenchmarkExchange(b *testing.B) {
	call := reqBody(`{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hi"}}}`)
	for _, size := range []int{1 << 10, 16 << 10} {
		result := `{"jsonrpc":"2.0","id":5,"result":{"content":[{"type":"text","text":"` + benignText(size) + `"}]}}`
		json := []*extprocv3.ProcessingRequest{call, respHeaders(":status", "200", "content-type", "application/json"), respBody(result, true)}
		sse := []*extprocv3.ProcessingRequest{call, respHeaders(":status", "200", "content-type", "text/event-stream"),
			respBody("event: message\ndata: "+result[:len(result)/2], false), respBody(result[len(result)/2:]+"\n\n", false), respBody("", true)}
		for _, scan := range []bool{false, true} {
			name := "framing"
			if scan {
				name = "detectors"
			}
			b.Run(strings.Join([]string{"json", itoa(size), name}, "/"), func(b *testing.B) { benchExchange(b, scan, json) })
			b.Run(strings.Join([]string{"sse", itoa(size), name}, "/"), func(b *testing.B) { benchExchange(b, scan, sse) })
		}
	}
}

func discardLogger() *slog.Logger { return slog.New(slog.NewJSONHandler(io.Discard, nil)) }
