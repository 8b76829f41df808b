package detectors

import (
	"encoding/base64"
	"encoding/hex"
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
