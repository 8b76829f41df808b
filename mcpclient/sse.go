package mcpclient

import (
	"bytes"
	"strings"
)

// isSSE reports whether a Content-Type is an SSE stream.
func isSSE(contentType string) bool {
	return strings.HasPrefix(strings.ToLower(strings.TrimSpace(contentType)), "text/event-stream")
}

// sseReader splits an SSE stream, fed in chunks cut anywhere, into the
// data of its events: data lines joined with "\n" as the spec says, other
// fields ignored. Data past max bytes in one event drops that event.
type sseReader struct {
	max   int
	event func(data []byte) // called for each complete event with data
	buf   []byte            // the unfinished line
	data  []byte            // the current event's data
	over  bool              // the current event grew past max: dropped
	skip  bool              // the rest of the current line is dropped
}

// feed reads chunk; eof ends the stream, which ends the last event.
func (r *sseReader) feed(chunk []byte, eof bool) {
	r.buf = append(r.buf, chunk...)
	for {
		// SSE lines end in \r\n, \n or \r; a final \r may be half of a
		// \r\n still to come.
		i := bytes.IndexAny(r.buf, "\r\n")
		if i < 0 || (r.buf[i] == '\r' && i == len(r.buf)-1 && !eof) {
			break
		}
		next := i + 1
		if r.buf[i] == '\r' && next < len(r.buf) && r.buf[next] == '\n' {
			next++
		}
		if r.skip {
			r.skip = false
		} else {
			r.line(r.buf[:i])
		}
		r.buf = r.buf[next:]
	}
	if len(r.buf)+len(r.data) > r.max {
		// An event this large is not kept; neither is the line that made it.
		r.data, r.over, r.skip = r.data[:0], true, len(r.buf) > 0 || r.skip
		r.buf = r.buf[:0]
	}
	if eof {
		if len(r.buf) > 0 && !r.skip {
			r.line(r.buf)
		}
		r.buf, r.skip = r.buf[:0], false
		r.line(nil)
	}
}

// line handles one SSE line: data lines accumulate, an empty line ends
// the event.
func (r *sseReader) line(l []byte) {
	if len(l) == 0 {
		if len(r.data) > 0 && !r.over {
			r.event(r.data)
		}
		r.data, r.over = r.data[:0], false
		return
	}
	if v, ok := bytes.CutPrefix(l, []byte("data:")); ok && !r.over {
		if len(r.data) > 0 {
			r.data = append(r.data, '\n')
		}
		r.data = append(r.data, bytes.TrimPrefix(v, []byte(" "))...)
		if len(r.data) > r.max {
			r.data, r.over = r.data[:0], true
		}
	}
}

// firstEvent returns the data of the first event in a whole SSE body that
// has any.
func firstEvent(body []byte, max int) []byte {
	var first []byte
	r := &sseReader{max: max, event: func(d []byte) {
		if first == nil {
			first = bytes.Clone(d)
		}
	}}
	r.feed(body, true)
	return first
}
