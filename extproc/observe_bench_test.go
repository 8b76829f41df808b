package extproc

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"

	"github.com/mcpgate/mcpgate/extproc/metrics"
)

// BenchmarkObserved compares an exchange with and without what serve adds
// for observability: Prometheus metrics, phase timing, the audit trail
// (written to io.Discard) and Envoy metadata. "attack" exchanges produce
// three findings and a decision each, so every record is written.
func BenchmarkObserved(b *testing.B) {
	call := reqBody(`{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hi"}}}`)
	headers := respHeaders(":status", "200", "content-type", "application/json")
	for _, tc := range []struct{ name, text string }{
		{"benign-16k", benignText(16 << 10)},
		{"attack-1k", benignText(1<<10) + " " + attack},
	} {
		msgs := []*extprocv3.ProcessingRequest{call, headers,
			respBody(`{"jsonrpc":"2.0","id":5,"result":{"content":[{"type":"text","text":"`+tc.text+`"}]}}`, true)}
		for _, observed := range []bool{false, true} {
			name := tc.name + "/plain"
			if observed {
				name = tc.name + "/observed"
			}
			b.Run(name, func(b *testing.B) { benchObserved(b, observed, msgs) })
		}
	}
}

func benchObserved(b *testing.B, observed bool, msgs []*extprocv3.ProcessingRequest) {
	p := testPolicy(Passive)
	p.MaxBodyBytes = DefaultMaxBodyBytes
	sc, err := p.newScanner()
	if err != nil {
		b.Fatal(err)
	}
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	audit, m := NewAuditLogger(io.Discard), Metrics(metrics.New())
	b.ReportAllocs()
	ctx := context.Background()
	for b.Loop() {
		st := newStream("bench", log, p, sc, DefaultBackend)
		if observed {
			st.audit.log, st.audit.metrics = audit, m
			m.StreamStarted(st.backend)
		}
		for _, msg := range msgs {
			start := time.Now()
			resp, err := st.handle(ctx, msg)
			if err != nil {
				b.Fatal(err)
			}
			if observed {
				m.Phase(phaseName(msg), time.Since(start))
				st.attachMetadata(resp)
			}
		}
	}
}
