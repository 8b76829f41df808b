package extproc

import (
	"context"
	"runtime"
	"strings"
	"testing"

	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
)

// BenchmarkHeldSSEStreams reports the heap one open SSE exchange holds in
// mcpgate's own state (gRPC buffers not included; bench/loadgen
// -sse-streams measures the whole process): 1,000 streams each holding
// half an event, then after 200 more events on each. heap-B/stream must
// not grow with the events (growth-B/stream near 0).
func BenchmarkHeldSSEStreams(b *testing.B) {
	p := testPolicy(Active)
	p.MaxBodyBytes = DefaultMaxBodyBytes
	sc, err := p.newScanner()
	if err != nil {
		b.Fatal(err)
	}
	event := "event: message\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{\"progressToken\":\"t\",\"progress\":1,\"message\":\"" +
		strings.Repeat("working on it ", 70) + "\"}}\n\n"
	half := len(event) / 2
	ctx := context.Background()
	feed := func(st *stream, m *extprocv3.ProcessingRequest) {
		if _, err := st.handle(ctx, m); err != nil {
			b.Fatal(err)
		}
	}
	const n = 1000
	var open, grown float64
	for b.Loop() {
		base := heapInUse()
		streams := make([]*stream, n)
		for i := range streams {
			st := newStream("bench", discardLogger(), p, sc, DefaultBackend)
			feed(st, reqBody(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo"}}`))
			feed(st, respHeaders(":status", "200", "content-type", "text/event-stream"))
			feed(st, respBody(event+event[:half], false))
			streams[i] = st
		}
		opened := heapInUse()
		next := respBody(event[half:]+event+event[:half], false)
		for range 200 {
			for _, st := range streams {
				feed(st, next)
			}
		}
		lived := heapInUse()
		open = float64(opened-base) / n
		grown = (float64(lived) - float64(opened)) / n
		runtime.KeepAlive(streams)
	}
	b.ReportMetric(open, "heap-B/stream")
	b.ReportMetric(grown, "growth-B/stream")
}

func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}
