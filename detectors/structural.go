package detectors

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
	"unsafe"
)

// hiddenRun is a run of Unicode tag characters and the ASCII they spell.
// Tag characters render as nothing but models read them, which makes them a
// channel for invisible instructions.
type hiddenRun struct {
	start, end int
	text       string
}

// normalise builds r.norm and its offset map, and reports the structural
// signals it meets on the way (tag characters, zero-width and bidi controls
// inside words, ANSI escapes, mixed-script words). Doing both in one pass
// means non-ASCII text is decoded exactly once.
func (r *scanRun) normalise() {
	text := r.text
	b := r.nbuf[:0]
	om := &r.offsets
	om.reset()
	var (
		prev      rune = -1 // last visible original rune
		wordStart      = -1 // normalised offset of the current word
		wordLatin bool
		wordConf  bool
		wordOther bool // has a letter that is neither ASCII nor a lookalike
		lastANSI  = -1 // index in r.findings of the last ANSI finding
	)
	endWord := func(end int) {
		if wordStart >= 0 && wordConf && (wordLatin || !wordOther) {
			r.mixed = append(r.mixed, [2]int32{int32(wordStart), int32(end)})
		}
		wordStart, wordLatin, wordConf, wordOther = -1, false, false, false
	}
	for i := 0; i < len(text); {
		c := text[i]
		if c == 0x1b {
			j := ansiEnd(text, i+1, false)
			lastANSI = r.addANSI(i, j, lastANSI)
			i = j
			continue
		}
		if c < utf8.RuneSelf {
			// A run of plain ASCII is copied in bulk: this is most of any
			// real text, and per-byte bookkeeping here dominated the cost.
			j := asciiRunEnd(text, i+1)
			n := len(b)
			b = append(b, text[i:j]...) // ASCII case is folded later, per window
			om.same(n, i)
			// Words: the run may end the current word and start a new one.
			// Only the run's first and last non-letters matter, and both
			// sit within a word of the run's ends.
			first, last := -1, -1
			for k := i; k < j; k++ {
				if !isASCIILetter(text[k]) {
					first = k
					break
				}
			}
			for k := j - 1; first >= 0 && k >= first; k-- {
				if !isASCIILetter(text[k]) {
					last = k
					break
				}
			}
			if first < 0 { // all letters: the word goes on
				if wordStart < 0 {
					wordStart = n
				}
				wordLatin = true
			} else {
				if first > i && wordStart < 0 {
					wordStart = n
				}
				if first > i {
					wordLatin = true
				}
				endWord(n + first - i)
				if last < j-1 {
					wordStart, wordLatin = n+last+1-i, true
				}
			}
			prev = rune(text[j-1])
			i = j
			continue
		}
		rn, size := utf8.DecodeRuneInString(text[i:])
		if rn == 0x9b || rn == 0x9d { // 8-bit CSI / OSC as runes
			j := ansiEnd(text, i+size, rn == 0x9d)
			if rn == 0x9b {
				j = csiEnd(text, i+size)
			}
			lastANSI = r.addANSI(i, j, lastANSI)
			i = j
			continue
		}
		if kind := invisibleKind(rn); kind != invNone {
			i = r.invisibleRun(i, prev)
			continue
		}
		from := len(b)
		if unfolded(rn) {
			b = append(b, text[i:i+size]...)
			om.same(from, i)
			if wordStart < 0 {
				wordStart = from
			}
			wordOther = true
			prev = rn
			i += size
			continue
		}
		var conf bool
		b, conf = foldRune(b, text[i:], rn)
		if len(b)-from == size {
			om.same(from, i)
		} else if len(b) > from {
			om.rune(from, i, i+size)
		}
		if unicode.IsLetter(rn) || unicode.Is(unicode.Mn, rn) {
			if wordStart < 0 {
				wordStart = from
			}
			if conf {
				wordConf = true
			} else if unicode.IsLetter(rn) {
				wordOther = true
			}
		} else {
			endWord(from)
		}
		prev = rn
		i += size
	}
	endWord(len(b))
	r.nbuf = b
	// norm aliases nbuf instead of copying it: a megabyte of text would
	// otherwise cost a megabyte of garbage per scan. nbuf is only written
	// again by the next normalise of this scanRun, after release has
	// dropped norm, and nothing returned to callers points into it.
	r.norm = unsafe.String(unsafe.SliceData(b), len(b))
	r.mapped = true
}

// invisibleRun handles a run of invisible runes starting at i and returns
// the offset after it. Zero-width and bidi controls are only reported when
// they sit inside a word of a Latin-like script (where they split keywords)
// or come in suspicious numbers; joiners between emoji, ZWNJ in Persian or
// Indic words and ZWSP in Thai are normal text.
func (r *scanRun) invisibleRun(i int, prev rune) int {
	text := r.text
	start := i
	var nZW, nBidi int
	var override bool
	var vs []byte // bytes spelled by variation selectors
	tagStart, tagBuf := -1, []byte(nil)
	for i < len(text) {
		rn, size := utf8.DecodeRuneInString(text[i:])
		kind := invisibleKind(rn)
		if kind == invNone {
			break
		}
		switch kind {
		case invZeroWidth:
			if !(rn == 0xFEFF && i == 0) { // a leading BOM is fine
				nZW++
			}
		case invBidi:
			nBidi++
			override = override || rn == 0x202D || rn == 0x202E
		case invVS:
			// One selector per byte: U+FE00..FE0F are 0..15,
			// U+E0100..E01EF are 16..255.
			if rn >= 0xE0100 {
				vs = append(vs, byte(rn-0xE0100+16))
			} else {
				vs = append(vs, byte(rn-0xFE00))
			}
		case invTag:
			if tagStart < 0 {
				tagStart = i
			}
			if rn >= 0xE0020 && rn <= 0xE007E {
				tagBuf = append(tagBuf, byte(rn-0xE0000))
			}
		}
		if kind != invTag && tagStart >= 0 {
			r.addTagRun(tagStart, i, tagBuf)
			tagStart, tagBuf = -1, nil
		}
		i += size
	}
	if tagStart >= 0 {
		r.addTagRun(tagStart, i, tagBuf)
	}
	// An emoji takes one selector (U+FE0F); a run of them is data.
	if len(vs) >= minVSRun {
		r.addVSRun(start, i, vs)
	}
	next, _ := utf8.DecodeRuneInString(text[i:])
	if i >= len(text) {
		next = -1
	}
	inWord := latinLike(prev) && latinLike(next)
	if nZW > 0 && (inWord || nZW >= 3) {
		r.add(r.s.ids.zeroWidth, start, i)
	}
	if nBidi > 0 && (inWord || (override && (latinLike(prev) || latinLike(next)))) {
		r.add(r.s.ids.bidi, start, i)
	}
	return i
}

func isASCIILetter(c byte) bool { return 'a' <= c|0x20 && c|0x20 <= 'z' }

// latinLike: letters of the scripts whose keywords zero-width characters
// are used to split (Latin, Greek, Cyrillic), and ASCII digits.
func latinLike(r rune) bool {
	if r < 0 {
		return false
	}
	if r < utf8.RuneSelf {
		return 'a' <= r|0x20 && r|0x20 <= 'z' || '0' <= r && r <= '9'
	}
	return unicode.IsLetter(r) && (unicode.Is(unicode.Latin, r) || unicode.Is(unicode.Greek, r) || unicode.Is(unicode.Cyrillic, r))
}

func (r *scanRun) addTagRun(start, end int, ascii []byte) {
	hidden := string(ascii)
	r.addExcerpt(r.s.ids.tagChars, start, end, labelled("hidden: ", hidden))
	if len(hidden) > 0 {
		r.hidden = append(r.hidden, hiddenRun{start: start, end: end, text: hidden})
	}
}

// minVSRun is the shortest run of variation selectors reported: text
// uses them one at a time, after an emoji or a CJK ideograph.
const minVSRun = 4

// addVSRun reports bytes smuggled in variation selectors and, when they
// spell readable text, queues it to be scanned like tag characters.
func (r *scanRun) addVSRun(start, end int, b []byte) {
	text := ""
	if utf8.Valid(b) && readable(b) {
		text = string(b)
	}
	r.addExcerpt(r.s.ids.varSel, start, end, labelled("hidden: ", text))
	if text != "" {
		r.hidden = append(r.hidden, hiddenRun{start: start, end: end, text: text})
	}
}

// scanHidden scans the ASCII spelled by tag characters; its findings point
// at the whole tag run, since the hidden text has no offsets of its own.
func (r *scanRun) scanHidden() {
	for _, h := range r.hidden {
		for _, f := range r.s.scan(h.text, r.depth+1, r.tool, true) {
			f.Start, f.End = h.start, h.end
			r.findings = append(r.findings, f)
		}
	}
}

// addANSI records an escape sequence, merging it with the previous one
// when they are adjacent (coloured output is many sequences in a row).
//
// Colour and style SGR sequences (test runners, compilers, linters colour
// their output) are only stripped: they change no text and hide nothing.
// Everything else — conceal (SGR 8), cursor movement, erasing the screen
// or line, hiding the cursor, OSC titles and hyperlinks — is reported.
func (r *scanRun) addANSI(start, end, last int) int {
	if colourSGR(r.text[start:end]) {
		return -1
	}
	if last >= 0 && last < len(r.findings) && r.findings[last].End == start && r.findings[last].Rule == "obfuscation.ansi_escape" {
		f := &r.findings[last]
		f.End = end
		f.Excerpt = excerpt(r.text[f.Start:end])
		return last
	}
	r.add(r.s.ids.ansi, start, end)
	return len(r.findings) - 1
}

// colourSGR reports whether seq is one Select Graphic Rendition sequence
// (CSI … m) whose parameters only set colours and styles: no conceal (8).
func colourSGR(seq string) bool {
	switch {
	case strings.HasPrefix(seq, "\x1b["):
		seq = seq[2:]
	case strings.HasPrefix(seq, "\u009b"):
		seq = seq[len("\u009b"):]
	default:
		return false
	}
	params, ok := strings.CutSuffix(seq, "m")
	if !ok {
		return false
	}
	fields := strings.FieldsFunc(params, func(c rune) bool { return c == ';' || c == ':' })
	for i := 0; i < len(fields); i++ {
		n, err := strconv.Atoi(fields[i])
		if err != nil || n < 0 || n > 107 {
			return false
		}
		switch {
		case n == 8: // conceal: invisible text
			return false
		case n == 38 || n == 48 || n == 58: // extended colour: 5;n or 2;r;g;b
			if i+1 < len(fields) && fields[i+1] == "5" {
				i += 2
			} else if i+1 < len(fields) && fields[i+1] == "2" {
				i += 4
			}
		}
	}
	return true
}

// maxEscapeLen bounds how far an unterminated escape sequence extends.
const maxEscapeLen = 512

// ansiEnd returns the end of the escape sequence whose introducer ended at
// i (ESC already consumed, or an 8-bit OSC when osc is true).
func ansiEnd(text string, i int, osc bool) int {
	if osc {
		return stringTerminated(text, i)
	}
	if i >= len(text) {
		return i
	}
	switch text[i] {
	case '[':
		return csiEnd(text, i+1)
	case ']', 'P', '^', '_', 'X': // OSC, DCS, PM, APC, SOS: until ST or BEL
		return stringTerminated(text, i+1)
	}
	if text[i] < utf8.RuneSelf {
		return i + 1 // two-byte escape (ESC c, ESC 7, ...)
	}
	return i
}

// csiEnd: parameters and intermediates, then one final byte 0x40–0x7E.
func csiEnd(text string, i int) int {
	limit := min(len(text), i+maxEscapeLen)
	for ; i < limit; i++ {
		c := text[i]
		if c >= 0x40 && c <= 0x7e {
			return i + 1
		}
		if c < 0x20 || c > 0x3f {
			return i
		}
	}
	return i
}

// stringTerminated ends at BEL, ESC \ or the 8-bit ST (U+009C).
func stringTerminated(text string, i int) int {
	limit := min(len(text), i+maxEscapeLen)
	for ; i < limit; i++ {
		switch {
		case text[i] == 0x07:
			return i + 1
		case text[i] == 0x1b:
			if i+1 < len(text) && text[i+1] == '\\' {
				return i + 2
			}
			return i
		case text[i] == 0xc2 && i+1 < len(text) && text[i+1] == 0x9c:
			return i + 2
		}
	}
	return snapRune(text, i)
}

// checkHomoglyph reports a keyword hit that lies in a word spelled with
// Cyrillic or Greek lookalikes: harmless text has no reason to do that.
//
// Hits arrive in order of end offset and keywords are short, so a cursor
// over the (sorted) mixed spans keeps this linear.
func (r *scanRun) checkHomoglyph(start, end int) {
	for r.mixedCur < len(r.mixed) && int(r.mixed[r.mixedCur][1]) <= start-maxKeywordLen {
		r.mixedCur++
	}
	for _, m := range r.mixed[r.mixedCur:] {
		if int(m[0]) >= end {
			break
		}
		if start < int(m[1]) {
			os, oe := r.toOrig(int(m[0]), int(m[1]))
			r.add(r.s.ids.homoglyph, os, oe)
		}
	}
}

// maxKeywordLen bounds how far back a keyword hit can start relative to an
// earlier one; keywords are short phrases.
const maxKeywordLen = 64
