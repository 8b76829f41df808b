package mcpclient

import (
	"fmt"
	"strings"
	"testing"
)

// TestSSEReader cuts streams at every byte, \r\n pairs included, and
// checks the events' data: lines joined with \n, other fields ignored,
// an oversized event dropped, the stream's end ending the last event.
func TestSSEReader(t *testing.T) {
	cases := []struct {
		name   string
		stream string
		max    int
		want   []string
	}{
		{"lf", "event: message\nid: 1\ndata: a\n\ndata: b\n\n", 1 << 10, []string{"a", "b"}},
		{"crlf", "data: a\r\ndata: b\r\n\r\n", 1 << 10, []string{"a\nb"}},
		{"cr", "data: a\rdata:b\r\r", 1 << 10, []string{"a\nb"}},
		{"no final blank line", "data: a\n\ndata: tail", 1 << 10, []string{"a", "tail"}},
		{"comment and empty data", ": ping\n\nevent: x\n\ndata: c\n\n", 1 << 10, []string{"c"}},
		{"oversized event dropped", "data: " + strings.Repeat("x", 40) + "\n\ndata: ok\n\n", 20, []string{"ok"}},
	}
	for _, c := range cases {
		for cut := 1; cut <= len(c.stream); cut++ {
			var got []string
			r := &sseReader{max: c.max, event: func(d []byte) { got = append(got, string(d)) }}
			for i := 0; i < len(c.stream); i += cut {
				r.feed([]byte(c.stream[i:min(i+cut, len(c.stream))]), false)
			}
			r.feed(nil, true)
			if fmt.Sprintf("%q", got) != fmt.Sprintf("%q", c.want) {
				t.Errorf("%s, chunks of %d: %q, want %q", c.name, cut, got, c.want)
			}
		}
	}
	if got := string(firstEvent([]byte("id: 1\n\ndata: {\"a\":\ndata: 1}\n\ndata: 2\n\n"), 1<<10)); got != "{\"a\":\n1}" {
		t.Errorf("firstEvent: %q", got)
	}
}
