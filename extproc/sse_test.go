package extproc

import (
	"bytes"
	"slices"
	"strings"
	"testing"
)

// TestSSESplitterEveryCut feeds each stream cut at every byte position (and
// byte by byte) and checks the events come out whole and unchanged.
func TestSSESplitterEveryCut(t *testing.T) {
	tests := []struct {
		name   string
		stream string
		events []string
		rest   string // unfinished at end of stream
	}{
		{"lf", "data: a\n\ndata: b\n\n", []string{"data: a\n\n", "data: b\n\n"}, ""},
		{"crlf", "data: a\r\ndata: b\r\n\r\nid: 2\r\ndata: c\r\n\r\n", []string{"data: a\r\ndata: b\r\n\r\n", "id: 2\r\ndata: c\r\n\r\n"}, ""},
		// A final CR could still start a CRLF, so it is judged only at end of stream.
		{"cr", "data: a\rdata: b\r\rdata: c\r\r", []string{"data: a\rdata: b\r\r"}, "data: c\r\r"},
		{"mixed", "event: message\r\ndata: {}\n\r\n: ping\n\n", []string{"event: message\r\ndata: {}\n\r\n", ": ping\n\n"}, ""},
		{"incomplete tail", "data: a\n\ndata: b\n", []string{"data: a\n\n"}, "data: b\n"},
	}
	for _, tt := range tests {
		for cut := 0; cut <= len(tt.stream); cut++ {
			sp := newSSESplitter(1 << 10)
			got := collect(sp.feed([]byte(tt.stream[:cut])))
			got = append(got, collect(sp.feed([]byte(tt.stream[cut:])))...)
			if rest := string(sp.rest().data); !equalStrings(got, tt.events) || rest != tt.rest {
				t.Errorf("%s cut at %d: got %q rest %q, want %q rest %q", tt.name, cut, got, rest, tt.events, tt.rest)
			}
		}
		sp := newSSESplitter(1 << 10)
		var got []string
		for i := range len(tt.stream) {
			got = append(got, collect(sp.feed([]byte{tt.stream[i]}))...)
		}
		if !equalStrings(got, tt.events) {
			t.Errorf("%s byte by byte: got %q, want %q", tt.name, got, tt.events)
		}
	}
}

func TestSSESplitterOversized(t *testing.T) {
	sp := newSSESplitter(12)
	big := "data: " + strings.Repeat("x", 20) + "\n\n"
	pieces := slices.Clone(sp.feed([]byte(big[:15]))) // feed reuses its result slice
	pieces = append(pieces, sp.feed([]byte(big[15:]+"data: ok\n\n"))...)
	var joined bytes.Buffer
	for _, p := range pieces[:len(pieces)-1] {
		if !p.oversized {
			t.Fatalf("piece %q not marked oversized", p.data)
		}
		joined.Write(p.data)
	}
	if joined.String() != big {
		t.Errorf("oversized pieces = %q, want %q", joined.String(), big)
	}
	if last := pieces[len(pieces)-1]; last.oversized || string(last.data) != "data: ok\n\n" {
		t.Errorf("event after oversized one = %+v", last)
	}
}

func TestParseSSEEvent(t *testing.T) {
	ev := parseSSEEvent([]byte("id: 7\r\nevent: message\r\ndata: {\"a\":\r\ndata:1}\r\n\r\n"))
	if !ev.hasData || string(ev.data) != "{\"a\":\n1}" {
		t.Fatalf("data = %q", ev.data)
	}
	if got := string(ev.encode([]byte(`{}`))); got != "id: 7\nevent: message\ndata: {}\n\n" {
		t.Errorf("encode = %q", got)
	}
}

func collect(ps []ssePiece) []string {
	var out []string
	for _, p := range ps {
		out = append(out, string(p.data))
	}
	return out
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
