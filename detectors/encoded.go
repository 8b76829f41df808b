package detectors

import (
	"encoding/base64"
	"encoding/hex"
	"strings"
	"unicode/utf8"
)

// Encoded payloads: a base64 or hex blob that decodes to readable text is
// scanned again with the phrase rules. Binary blobs (images, hashes, keys)
// decode to non-text and are skipped after one cheap check.

const (
	minBase64Blob = 24       // 18 decoded bytes: shortest useful instruction
	minHexBlob    = 32       // 16 decoded bytes
	maxBlob       = 64 << 10 // do not decode huge attachments
)

var blobClass = func() (t [256]uint8) {
	for c := 0; c < 256; c++ {
		b := byte(c)
		switch {
		case isDigit(b) || 'a' <= b && b <= 'f' || 'A' <= b && b <= 'F':
			t[c] = 3 // hex and base64
		case isAlnum(b) || b == '+' || b == '/' || b == '-' || b == '_' || b == '=':
			t[c] = 1 // base64 only
		}
	}
	return t
}()

func (r *scanRun) scanEncoded() {
	// A blob is at least minBase64Blob bytes long, so it covers two
	// consecutive sample points `stride` apart: only where both samples and
	// the bytes between them are blob bytes can one start. Prose fails that
	// test within a few bytes, which makes this pass several times cheaper
	// than looking at every byte.
	const stride = minBase64Blob / 2
	t := r.text
	next := 0 // bytes before next belong to a run already handled
	for p := stride - 1; p+stride < len(t); p += stride {
		if p < next || blobClass[t[p]] == 0 || blobClass[t[p+stride]] == 0 {
			continue
		}
		inRun := true
		for k := p + 1; k < p+stride; k++ {
			if blobClass[t[k]] == 0 {
				inRun = false
				break
			}
		}
		if !inRun {
			continue
		}
		start, end := p, p+stride+1
		for start > next && blobClass[t[start-1]] != 0 {
			start--
		}
		for end < len(t) && blobClass[t[end]] != 0 {
			end++
		}
		next = end
		r.decodeBlob(start, end)
	}
}

// decodeBlob scans what the run t[start:end] decodes to, if it is readable.
func (r *scanRun) decodeBlob(start, end int) {
	n := end - start
	if n < minBase64Blob || n > maxBlob {
		return
	}
	blob := r.text[start:end]
	if n >= twilioLen {
		r.findTwilio(start, end)
	}
	hexOnly := true
	for i := 0; i < len(blob) && hexOnly; i++ {
		hexOnly = blobClass[blob[i]] == 3
	}
	var decoded []byte
	if hexOnly && n >= minHexBlob && n%2 == 0 {
		decoded, _ = hex.DecodeString(blob)
	} else if !hexOnly {
		decoded = decodeBase64(blob)
	}
	if len(decoded) == 0 || !readable(decoded) {
		return
	}
	r.scanDecoded(start, end, string(decoded))
}

func decodeBase64(s string) []byte {
	for len(s) > 0 && s[len(s)-1] == '=' {
		s = s[:len(s)-1]
	}
	if len(s)%4 == 1 {
		s = s[:len(s)-1]
	}
	if b, err := base64.RawStdEncoding.DecodeString(s); err == nil {
		return b
	}
	if b, err := base64.RawURLEncoding.DecodeString(s); err == nil {
		return b
	}
	return nil
}

// readable: valid UTF-8, nearly all printable, and mostly letters/spaces,
// which is what instructions look like and binary data does not.
func readable(b []byte) bool {
	if !utf8.Valid(b) {
		return false
	}
	var letters, bad int
	for _, r := range string(b) {
		switch {
		case r == ' ' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= 0x80:
			letters++
		case r < 0x20 && r != '\n' && r != '\t' && r != '\r', r == 0x7f:
			bad++
		}
	}
	n := utf8.RuneCount(b)
	return bad == 0 && letters*10 >= n*7
}

// scanDecoded scans decoded text; if it carries attack phrases, the blob is
// reported as encoded instructions, together with what was found inside.
func (r *scanRun) scanDecoded(start, end int, decoded string) {
	inner := r.s.scan(decoded, r.depth+1, r.tool, true)
	found := false
	for _, f := range inner {
		switch f.Category {
		case Injection, Exfiltration, Poisoning:
			found = true
		}
	}
	if !found {
		return
	}
	r.addExcerpt(r.s.ids.encoded, start, end, labelled("decoded: ", decoded))
	for _, f := range inner {
		f.Start, f.End = start, end
		r.findings = append(r.findings, f)
	}
}

// twilioLen is the length of a Twilio SID: two letters and 32 hex digits.
const twilioLen = 34

// findTwilio looks for SIDs inside the blob run text[start:end]; a run
// can hold more than the SID ("TWILIO_SID=AC…" is one run of blob bytes).
func (r *scanRun) findTwilio(start, end int) {
	t := r.text
	for i := start; i+twilioLen <= end; i++ {
		if !(t[i] == 'A' && t[i+1] == 'C' || t[i] == 'S' && t[i+1] == 'K') {
			continue
		}
		e := i + twilioLen
		if (i > 0 && isAlnum(t[i-1])) || (e < len(t) && isAlnum(t[e])) {
			continue
		}
		r.checkTwilio(i, e)
		i = e - 1
	}
}

// checkTwilio reports a Twilio API key SID ("SK" + 32 hex) and an account
// SID ("AC" + 32 hex) that comes with its auth token (another 32-hex
// value, or the words "auth token", close by). An account SID alone is an
// identifier, not a credential.
func (r *scanRun) checkTwilio(start, end int) {
	blob := r.text[start:end]
	kind := blob[:2]
	if kind != "AC" && kind != "SK" || !lowerHex(blob[2:]) || !notPlaceholder(blob) {
		return
	}
	if kind == "AC" {
		lo, hi := max(0, start-twilioReach), min(len(r.text), end+twilioReach)
		near := strings.ToLower(r.text[lo:start] + " " + r.text[end:hi])
		if !hasHexToken(near) && !strings.Contains(near, "auth_token") && !strings.Contains(near, "authtoken") && !strings.Contains(near, "auth token") {
			return
		}
	}
	r.addExcerpt(r.s.ids.twilio, start, end, redactKeep(blob, 2))
}

// twilioReach is how far from an account SID its auth token may be.
const twilioReach = 300

func lowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) && !('a' <= s[i] && s[i] <= 'f') {
			return false
		}
	}
	return true
}

// hasHexToken: a standalone run of exactly 32 hex digits with a letter
// and a digit (an auth token, not a version string).
func hasHexToken(s string) bool {
	for i := 0; i < len(s); {
		if !isHex(s[i]) {
			i++
			continue
		}
		j := i
		for j < len(s) && isHex(s[j]) {
			j++
		}
		if j-i == 32 && (i == 0 || !isAlnum(s[i-1])) && (j == len(s) || !isAlnum(s[j])) && hasDigitAndLetter(s[i:j]) {
			return true
		}
		i = j
	}
	return false
}

// Percent-encoded payloads (a sentence with %20 for every space,
// "%49%67%6E%6F%72%65…") are decoded and scanned like base64 blobs. A run
// needs minPercentEscapes escapes; what it decodes to is reported only if
// the phrase rules find something in it.
const minPercentEscapes = 3

func (r *scanRun) scanPercent() {
	t := r.text
	for i := 0; i < len(t); {
		j := strings.IndexByte(t[i:], '%')
		if j < 0 {
			return
		}
		p := i + j
		a := p
		for a > 0 && p-a < maxBlob && isURLByte(t[a-1]) {
			a--
		}
		b, esc := p, 0
		for b < len(t) && b-a < maxBlob && isURLByte(t[b]) {
			if t[b] == '%' && b+2 < len(t) && isHex(t[b+1]) && isHex(t[b+2]) {
				esc++
				b += 3
				continue
			}
			b++
		}
		i = max(b, p+1)
		if esc < minPercentEscapes || b-a < minBase64Blob {
			continue
		}
		dec := decodeQueryValue(t[a:b])
		if len(dec) < 16 || dec == t[a:b] || !readable([]byte(dec)) {
			continue
		}
		r.scanDecoded(a, b, dec)
	}
}

// isURLByte: bytes that may appear in a URL or a form-encoded value.
func isURLByte(c byte) bool {
	if isAlnum(c) {
		return true
	}
	switch c {
	case '%', '-', '.', '_', '~', '+', '!', '*', '(', ')', ',', ';', ':', '@', '&', '=', '/', '?', '#', '$', '\'':
		return true
	}
	return false
}

// Letter-spaced text ("I g n o r e  a l l  p r e v i o u s …") hides words
// from keyword matching. A run of at least minSpacedLetters single
// letters, each followed by one space, is collapsed (a double space
// separates words) and scanned like a decoded blob.
const minSpacedLetters = 12

func (r *scanRun) scanSpaced() {
	t := r.text
	for i := 0; i+2*minSpacedLetters <= len(t); {
		// Cheap test first: most text never has "x y z" at i.
		if !isASCIILetter(t[i]) || t[i+1] != ' ' || !isASCIILetter(t[i+2]) || (i > 0 && isASCIILetter(t[i-1])) {
			i++
			continue
		}
		j, letters := spacedRun(t, i, nil)
		if letters >= minSpacedLetters {
			_, _ = spacedRun(t, i, &r.sbuf)
			r.scanDecoded(i, j, string(r.sbuf))
		}
		i = max(j, i+1)
	}
}

// spacedRun measures the letter-spaced run starting at i: its end and
// how many characters it spells. With out set, it also writes the
// collapsed text there (measuring first keeps clean text allocation-free).
func spacedRun(t string, i int, out *[]byte) (end, letters int) {
	if out != nil {
		*out = (*out)[:0]
	}
	j := i
	for j < len(t) && j-i < maxBlob {
		c := t[j]
		if !isASCIILetter(c) && !isDigit(c) && c != '\'' && c != ',' && c != '.' {
			break
		}
		if j+1 < len(t) && t[j+1] != ' ' {
			break // the start of an ordinary word ends the run
		}
		if out != nil {
			*out = append(*out, c)
		}
		letters++
		j += 2                         // the character and its space
		if j < len(t) && t[j] == ' ' { // two spaces: a word boundary
			if out != nil {
				*out = append(*out, ' ')
			}
			for j < len(t) && t[j] == ' ' {
				j++
			}
		}
	}
	return min(j, len(t)), letters
}
