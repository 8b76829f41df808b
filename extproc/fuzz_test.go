package extproc

import (
	"bytes"
	"context"
	"testing"

	"github.com/mcpgate/mcpgate/internal/jsondepth"
)

// FuzzSSESplit checks, for any stream and any two cut points, that the
// splitter hands out every byte exactly once, in order, and that the
// events are the same as when the stream arrives whole.
func FuzzSSESplit(f *testing.F) {
	f.Add([]byte("data: a\r\n\r\ndata: b\n\n: c\r\r"), 3, 9)
	f.Add([]byte("event: message\ndata: {\"x\":1}\n\n"), 1, 20)
	f.Fuzz(func(t *testing.T, stream []byte, a, b int) {
		if len(stream) == 0 {
			return
		}
		a, b = abs(a)%len(stream), abs(b)%len(stream)
		if a > b {
			a, b = b, a
		}
		whole := drain(newSSESplitter(64), stream)
		split := drain(newSSESplitter(64), stream[:a], stream[a:b], stream[b:])
		var got bytes.Buffer
		for _, p := range split {
			got.Write(p.data)
		}
		if !bytes.Equal(got.Bytes(), stream) {
			t.Fatalf("pieces %q do not add up to the stream %q", got.Bytes(), stream)
		}
		if !samePieces(whole, split) {
			t.Fatalf("cut at %d,%d: events %q differ from unsplit %q", a, b, pieceData(split), pieceData(whole))
		}
	})
}

func drain(sp *sseSplitter, chunks ...[]byte) []ssePiece {
	var out []ssePiece
	for _, c := range chunks {
		for _, p := range sp.feed(c) {
			out = append(out, ssePiece{data: bytes.Clone(p.data), oversized: p.oversized})
		}
	}
	if p := sp.rest(); len(p.data) > 0 {
		out = append(out, ssePiece{data: bytes.Clone(p.data), oversized: p.oversized, unfinished: true})
	}
	return out
}

// samePieces compares whole events; oversized events may be released in
// different pieces depending on the cuts, so they are compared joined.
func samePieces(a, b []ssePiece) bool {
	join := func(ps []ssePiece) [][]byte {
		var out [][]byte
		var big []byte
		for _, p := range ps {
			if p.oversized {
				big = append(big, p.data...)
				continue
			}
			if big != nil {
				out = append(out, big)
				big = nil
			}
			out = append(out, p.data)
		}
		if big != nil {
			out = append(out, big)
		}
		return out
	}
	ja, jb := join(a), join(b)
	if len(ja) != len(jb) {
		return false
	}
	for i := range ja {
		if !bytes.Equal(ja[i], jb[i]) {
			return false
		}
	}
	return true
}

func pieceData(ps []ssePiece) []string {
	var out []string
	for _, p := range ps {
		out = append(out, string(p.data))
	}
	return out
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// FuzzRequestBody feeds arbitrary bodies through the request phase: it must
// never panic, and a rejection must be valid JSON. depth wraps the body in
// that many brackets (up to 2,000), so deep inputs are generated without
// the fuzzer having to grow them byte by byte; one nested past the bound
// must be refused.
func FuzzRequestBody(f *testing.F) {
	f.Add([]byte(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"delete_files"}}`), uint16(0))
	f.Add([]byte(`[{"jsonrpc":"2.0","id":"a","method":"tools/call","params":{"name":"echo","Name":"x"}}]`), uint16(0))
	f.Add([]byte("{\"id\":\xff}"), uint16(0))
	f.Add([]byte(`{"jsonrpc":"2.0","id":1,"method":"ping"}`), uint16(63))
	f.Add([]byte(`{"a":"\\"}`), uint16(64))
	f.Add([]byte(`"[[[[\"`), uint16(1999))
	p := testPolicy(Active)
	p.MaxBodyBytes = DefaultMaxBodyBytes
	f.Fuzz(func(t *testing.T, body []byte, depth uint16) {
		body = []byte(nested(int(depth%2000), "[", "]", string(body)))
		st := newStream("fuzz", discardLogger(), p, nil, DefaultBackend)
		resp, err := st.handle(context.Background(), reqBody(string(body)))
		if err != nil {
			t.Fatal(err)
		}
		ir := resp.GetImmediateResponse()
		if ir != nil && len(ir.Body) > 0 && !jsonValid(ir.Body) {
			t.Fatalf("invalid JSON reply %q", ir.Body)
		}
		if jsondepth.Exceeds(body, p.maxDepth()) && ir == nil {
			t.Fatalf("body nested %d deep passed", jsondepth.Depth(body))
		}
	})
}
