package extproc

import (
	"bytes"
	"strings"
	"testing"

	"github.com/tidwall/gjson"
)

// Models of the official clients' SSE readers, for the differential fuzz
// target: each returns the data of the events it dispatches.

// specClientData is the WHATWG reading, as eventsource-parser (TS SDK)
// and httpx-sse (Python SDK) implement it: lines end at CR, LF or CRLF,
// one space after the colon is dropped, data lines join with LF, and an
// event is dispatched at a blank line if it has data. bom says the client
// drops a leading UTF-8 BOM (TS, through TextDecoderStream).
func specClientData(stream []byte, bom bool) [][]byte {
	if bom {
		stream = bytes.TrimPrefix(stream, utf8BOM)
	}
	var out [][]byte
	var data []byte
	has := false
	for len(stream) > 0 {
		i := indexLineEnd(stream)
		if i < 0 {
			break // an unterminated last line is never dispatched
		}
		line := stream[:i]
		next := i + 1
		if stream[i] == '\r' && next < len(stream) && stream[next] == '\n' {
			next++
		}
		stream = stream[next:]
		if len(line) == 0 {
			if has && len(data) > 0 {
				out = append(out, data)
			}
			data, has = nil, false
			continue
		}
		name, value, _ := bytes.Cut(line, []byte(":"))
		if string(name) != "data" {
			continue
		}
		value = bytes.TrimPrefix(value, []byte(" "))
		if has {
			data = append(data, '\n')
		}
		data, has = append(data, value...), true
	}
	return out
}

// goClientData is the Go SDK's reading (mcp/event.go scanEvents): lines
// end at LF only, trailing CRs dropped; a line without a colon ends the
// stream; values are trimmed; an event is dispatched at a blank line or
// at the end of the stream.
func goClientData(stream []byte) [][]byte {
	var out [][]byte
	var data []byte
	has := false
	dispatch := func() {
		if has && len(data) > 0 {
			out = append(out, data)
		}
		data, has = nil, false
	}
	for len(stream) > 0 {
		line, rest, _ := bytes.Cut(stream, []byte("\n"))
		stream = rest
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			dispatch()
			continue
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			return out // malformed line: the Go client gives up
		}
		if string(name) == "data" {
			if has {
				data = append(data, '\n')
			}
			data, has = append(data, bytes.TrimSpace(value)...), true
		}
	}
	dispatch() // the end of the stream ends the event
	return out
}

// sseTokens are the pieces FuzzSSEDifferential builds streams from: the
// framing bytes the parsers disagree on, and a poisoned tool result cut
// where line breaks can hide parts of it.
var sseTokens = []string{
	"data:", "data: ", "data:\t", "\r", "\n", "\r\n", "\xef\xbb\xbf", ":", " ", "event: message", "id: 1", "Data:",
	`{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"` + injection + `"}]}}`,
	`{"jsonrpc":"2.0","id":1,`, `"result":{"content":[{"type":"text","text":"` + injection + `"}]}}`,
	`{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"fine"}]}}`,
}

// poisoned reports whether a dispatched message is a result carrying the
// injection: what mcpgate must never let a client act on.
func poisoned(data []byte) bool {
	return gjson.ValidBytes(data) && gjson.GetBytes(data, "result.content").IsArray() && bytes.Contains(data, []byte("attacker.example"))
}

// FuzzSSEDifferential builds SSE streams from tokens, sends them through
// mcpgate in active mode in three chunks, and reads what the client gets
// with each SDK's parser model: no model may dispatch the poisoned result.
func FuzzSSEDifferential(f *testing.F) {
	f.Add([]byte{6, 1, 12, 4, 4}, 3)     // BOM, data, message
	f.Add([]byte{0, 3, 12, 4, 4}, 5)     // data: CR message
	f.Add([]byte{1, 12, 4}, 1)           // no blank line at the end
	f.Add([]byte{1, 12}, 2)              // no line end at all
	f.Add([]byte{1, 13, 3, 14, 4, 4}, 7) // a lone CR inside the message
	f.Add([]byte{9, 3, 1, 12, 3, 3}, 4)  // lone CRs only
	p := testPolicy(Active)
	p.MaxBodyBytes = DefaultMaxBodyBytes
	sc, err := p.newScanner()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, ops []byte, cut int) {
		if len(ops) > 64 {
			return
		}
		var b strings.Builder
		for _, op := range ops {
			b.WriteString(sseTokens[int(op)%len(sseTokens)])
		}
		stream := []byte(b.String())
		a := abs(cut) % (len(stream) + 1)
		c := (a + len(stream)) / 2
		out := throughStream(t, p, sc, [][]byte{stream[:a], stream[a:c], stream[c:]})
		for name, events := range map[string][][]byte{
			"TS": specClientData(out, true), "Python": specClientData(out, false), "Go": goClientData(out),
		} {
			for _, d := range events {
				if poisoned(d) {
					t.Fatalf("%s client dispatches the poisoned result from %q (sent %q)", name, out, stream)
				}
			}
		}
	})
}

// TestClientModels pins the models to the behaviours read in the SDKs.
func TestClientModels(t *testing.T) {
	msg := `{"a":1}`
	tests := []struct {
		stream       string
		spec, bom, g int // events dispatched: spec without BOM drop, TS, Go
	}{
		{"data: " + msg + "\n\n", 1, 1, 1},
		{"\xef\xbb\xbfdata: " + msg + "\n\n", 0, 1, 0},
		{"data: " + msg + "\n", 0, 0, 1},
		{"data: " + msg, 0, 0, 1},
		{"data:\r" + msg + "\n\n", 0, 0, 1},
		{"data: " + msg + "\r\r", 1, 1, 1},
		{"data: " + msg + "\rdata: " + msg + "\r\r", 1, 1, 1},
		{"bad line\ndata: " + msg + "\n\n", 1, 1, 0},
	}
	for _, tt := range tests {
		s := []byte(tt.stream)
		if got := [3]int{len(specClientData(s, false)), len(specClientData(s, true)), len(goClientData(s))}; got != [3]int{tt.spec, tt.bom, tt.g} {
			t.Errorf("%q: dispatched %v, want %v", tt.stream, got, [3]int{tt.spec, tt.bom, tt.g})
		}
	}
}
