package extproc

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestSSESplitterPiecesStayIntact checks the promise parseJSON relies on:
// bytes handed out in a piece are never written to again, whatever the
// splitter does with later chunks.
func TestSSESplitterPiecesStayIntact(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		stream := randomSSE(rng, 20, false).raw
		sp := newSSESplitter(1 << 20)
		var kept, copies [][]byte
		for _, c := range randomCuts(rng, stream) {
			for _, p := range sp.feed(c) {
				kept = append(kept, p.data)
				copies = append(copies, bytes.Clone(p.data))
			}
		}
		for i := range kept {
			if !bytes.Equal(kept[i], copies[i]) {
				t.Fatalf("piece %d changed after it was handed out: %q, was %q", i, kept[i], copies[i])
			}
		}
	}
}

// TestSSESplitterHoldsOneEvent checks per-stream memory does not grow with
// the stream's life: after any number of events, each arriving split in
// two, the splitter holds at most one partial event.
func TestSSESplitterHoldsOneEvent(t *testing.T) {
	event := "event: message\ndata: " + strings.Repeat("x", 1000) + "\n\n"
	half := len(event) / 2
	sp := newSSESplitter(DefaultMaxBodyBytes)
	sp.feed([]byte(event[:half]))
	for i := range 10000 {
		pieces := sp.feed([]byte(event[half:] + event[:half]))
		if len(pieces) != 1 || string(pieces[0].data) != event {
			t.Fatalf("chunk %d: pieces %d", i, len(pieces))
		}
		if c := cap(sp.buf); c > 2*len(event) {
			t.Fatalf("after %d events the held buffer has capacity %d, want at most %d", i, c, 2*len(event))
		}
	}
}
