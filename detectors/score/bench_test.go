package score_test

import (
	"fmt"
	"testing"

	"github.com/mcpgate/mcpgate/detectors/score"
)

// benchSurface is 50 plausible tools of about 400 bytes each.
func benchSurface(b *testing.B) score.Surface {
	s := surface(b)
	for i := range 50 {
		s.Tools = append(s.Tools, tool(b, fmt.Sprintf(`{"name":"get_record_%d","description":"Return one record of table %d by its id, `+
			`with the fields the caller asks for. Records are read from the local cache and never modified.",`+
			`"inputSchema":{"type":"object","properties":{"id":{"type":"string","description":"record id"},`+
			`"fields":{"type":"array","items":{"type":"string"},"description":"fields to return"}},"required":["id"]},`+
			`"annotations":{"readOnlyHint":true,"openWorldHint":false}}`, i, i)))
	}
	return s
}

// BenchmarkScore is the whole score of 50 tools: what the gateway adds
// when a backend's tools/list changes.
func BenchmarkScore(b *testing.B) {
	sc, s := newScanner(b), benchSurface(b)
	b.ReportAllocs()
	for b.Loop() {
		score.Score(sc, s)
	}
}

// BenchmarkScanTools is the baseline: the detectors' ScanTool over the
// same 50 tools, which the gateway already runs on every tools/list.
func BenchmarkScanTools(b *testing.B) {
	sc, s := newScanner(b), benchSurface(b)
	b.ReportAllocs()
	for b.Loop() {
		for _, t := range s.Tools {
			if _, err := sc.ScanTool(t.Raw); err != nil {
				b.Fatal(err)
			}
		}
	}
}
