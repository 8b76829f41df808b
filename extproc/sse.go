package extproc

import "bytes"

// sseSplitter cuts a text/event-stream body, delivered in arbitrary chunks,
// into whole events. Line ends may be CRLF, LF or CR (the SSE spec allows all
// three), so a CR at the end of a chunk is not judged until the next byte is
// known: treating it as a line end too early would turn a split CRLF into two
// line ends and cut one event in two.
//
// Events that lie whole in a chunk are handed out as slices of it, without
// copying; only an unfinished event is copied and held, so memory per
// stream is one partial event at most, however long the stream lives.
type sseSplitter struct {
	buf        []byte // the held unfinished event; never written after a piece of it is handed out
	pos        int    // next byte to scan
	lineStart  int    // start of the current line
	eventStart int    // start of the current event
	skipping   bool   // discarding the rest of an oversized event
	max        int    // largest event held back, in bytes
	pieces     []ssePiece
}

// ssePiece is a run of output bytes: a whole event, or part of an event too
// large to hold (oversized), which the caller may pass or drop.
type ssePiece struct {
	data      []byte
	oversized bool
	// unfinished is an event cut off by the end of the stream; clients
	// drop such events unread (SSE spec), so they need no judging.
	unfinished bool
}

func newSSESplitter(max int) *sseSplitter { return &sseSplitter{max: max} }

// feed adds a chunk and returns the pieces it completes. The returned slice
// is reused by the next call; the bytes of the pieces are never written to
// again (they are the caller's chunk or a buffer the splitter lets go of),
// so parsed values may point into them.
func (s *sseSplitter) feed(chunk []byte) []ssePiece {
	data := chunk
	if len(s.buf) > 0 {
		s.buf = append(s.buf, chunk...)
		data = s.buf
	}
	out := s.pieces[:0]
	for s.pos < len(data) {
		i := indexLineEnd(data[s.pos:])
		if i < 0 {
			s.pos = len(data)
			break
		}
		p := s.pos + i
		end := p + 1
		if data[p] == '\r' {
			if end == len(data) {
				s.pos = p // wait: this CR may start a CRLF
				break
			}
			if data[end] == '\n' {
				end++
			}
		}
		blank := p == s.lineStart
		s.pos, s.lineStart = end, end
		if !blank {
			continue
		}
		// An event over the limit is oversized even when it arrived whole,
		// so the outcome does not depend on how the stream was chunked.
		big := s.skipping || end-s.eventStart > s.max
		out = append(out, ssePiece{data: data[s.eventStart:end:end], oversized: big})
		s.eventStart, s.skipping = end, false
	}
	if held := s.pos - s.eventStart; held > s.max || (s.skipping && held > 0) {
		// The event is too big to judge whole: release what is held and
		// keep releasing until the event ends.
		out = append(out, ssePiece{data: data[s.eventStart:s.pos:s.pos], oversized: true})
		s.eventStart, s.skipping = s.pos, true
	}
	s.pieces = out
	s.hold(data)
	return out
}

// hold keeps the unfinished tail of data for the next chunk. A buffer that
// pieces were cut from is handed over with them, so the tail is copied.
func (s *sseSplitter) hold(data []byte) {
	tail := data[s.eventStart:]
	switch {
	case len(tail) == 0:
		s.buf = nil
	case s.eventStart > 0 || len(s.buf) == 0:
		s.buf = append(make([]byte, 0, len(tail)+512), tail...)
	}
	s.pos -= s.eventStart
	s.lineStart -= s.eventStart
	s.eventStart = 0
}

// held is how many bytes of an unfinished event are being held back.
func (s *sseSplitter) held() int { return len(s.buf) }

// rest returns what is held at end of stream: an unfinished event, or a
// whole one whose blank line is a CR that feed held back (no LF can follow
// it now). Passing that event unjudged would let a CR-only stream slip its
// last event past the detectors.
func (s *sseSplitter) rest() ssePiece {
	whole := len(s.buf) > 0 && s.pos == len(s.buf)-1 && s.pos == s.lineStart && s.buf[s.pos] == '\r'
	p := ssePiece{data: s.buf, oversized: s.skipping || (whole && len(s.buf) > s.max), unfinished: !whole}
	s.buf, s.pos, s.lineStart, s.eventStart = nil, 0, 0, 0
	return p
}

// sseEvent is a parsed event: its data joined as the spec says, and the
// non-data lines kept verbatim so a replacement keeps the framing.
type sseEvent struct {
	data    []byte
	hasData bool
	name    []byte   // the event: field's value, "" if none
	fields  [][]byte // raw id:, event:, retry: and comment lines, with line ends
}

func parseSSEEvent(raw []byte) sseEvent {
	var ev sseEvent
	for len(raw) > 0 {
		line, next := cutLine(raw)
		body := bytes.TrimRight(line, "\r\n")
		raw = next
		if len(body) == 0 {
			continue
		}
		name, value, _ := bytes.Cut(body, []byte(":"))
		value = bytes.TrimPrefix(value, []byte(" "))
		if string(name) != "data" {
			if string(name) == "event" {
				ev.name = value
			}
			ev.fields = append(ev.fields, line)
			continue
		}
		if !ev.hasData {
			// The usual single data line needs no copy; the capped
			// capacity makes a second line's append copy rather than
			// write into raw.
			ev.data, ev.hasData = value[:len(value):len(value)], true
			continue
		}
		ev.data = append(append(ev.data, '\n'), value...)
	}
	return ev
}

// knownFields is ev without its comments and unknown fields.
func (ev sseEvent) knownFields() sseEvent {
	out := ev
	out.fields = nil
	for _, f := range ev.fields {
		name, _, _ := bytes.Cut(bytes.TrimRight(f, "\r\n"), []byte(":"))
		switch string(name) {
		case "id", "event", "retry":
			out.fields = append(out.fields, f)
		}
	}
	return out
}

// cutLine splits off the first line including its terminator.
func cutLine(b []byte) (line, rest []byte) {
	i := indexLineEnd(b)
	if i < 0 {
		return b, nil
	}
	end := i + 1
	if b[i] == '\r' && end < len(b) && b[end] == '\n' {
		end++
	}
	return b[:end], b[end:]
}

// encode renders the event with new data, keeping its other fields. data
// must not contain line breaks (compact JSON does not).
func (ev sseEvent) encode(data []byte) []byte {
	var b bytes.Buffer
	for _, f := range ev.fields {
		b.Write(bytes.TrimRight(f, "\r\n"))
		b.WriteByte('\n')
	}
	b.WriteString("data: ")
	b.Write(data)
	b.WriteString("\n\n")
	return b.Bytes()
}

// indexLineEnd returns the index of the first CR or LF in b, or -1. Two
// IndexByte calls (vectorised) beat IndexAny's byte-by-byte set test on
// the long data lines SSE carries; the CR search stops at the first LF.
func indexLineEnd(b []byte) int {
	lf := bytes.IndexByte(b, '\n')
	end := lf
	if end < 0 {
		end = len(b)
	}
	if cr := bytes.IndexByte(b[:end], '\r'); cr >= 0 {
		return cr
	}
	return lf
}

// utf8BOM starts some streams; a client decoding the stream as UTF-8 text
// (the TS SDK's TextDecoderStream) drops it before parsing, so the first
// event is judged without it.
var utf8BOM = []byte("\xef\xbb\xbf")

// goSDKData is the data the Go SDK's SSE reader (mcp/event.go) takes from
// an event, where it differs from the spec's reading: it splits lines on
// LF alone, so a lone CR is not a line end for it ("data:\r{...}" is one
// data line holding a message, where the spec sees an empty data line
// and a field named "{..."); it trims all white space around a value; and
// it dispatches an event the stream ends in without a blank line; it
// keeps a BOM. ok is false when the two readings agree or the Go SDK sees
// no data. settled says the spec's reading is JSON or has no data: then,
// with LF-only lines and no BOM, the Go SDK reads the same lines, so the
// same JSON (line breaks in valid JSON lie outside strings, where only
// JSON white space can be trimmed) or no data, and nothing needs
// computing on the usual path.
func goSDKData(raw []byte, spec sseEvent, settled bool) (data []byte, ok bool) {
	if settled && bytes.IndexByte(raw, '\r') < 0 && !bytes.HasPrefix(raw, utf8BOM) {
		return nil, false
	}
	var out []byte
	seen := false
	for len(raw) > 0 {
		line, rest, _ := bytes.Cut(raw, []byte("\n"))
		raw = rest
		line = bytes.TrimRight(line, "\r\n")
		name, value, found := bytes.Cut(line, []byte(":"))
		if !found || string(name) != "data" {
			continue
		}
		if seen {
			out = append(out, '\n')
		}
		out, seen = append(out, bytes.TrimSpace(value)...), true
	}
	if !seen || len(out) == 0 || bytes.Equal(bytes.TrimSpace(out), bytes.TrimSpace(spec.data)) {
		return nil, false
	}
	return out, true
}
