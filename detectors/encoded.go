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
	t := r.text
	for i := 0; i < len(t); {
		if blobClass[t[i]] == 0 {
			i++
			continue
		}
		start := i
		hexOnly := true
		for i < len(t) && blobClass[t[i]] != 0 {
			hexOnly = hexOnly && blobClass[t[i]] == 3
			i++
		}
		n := i - start
		if n < minBase64Blob || n > maxBlob {
			continue
		}
		var decoded []byte
		if hexOnly && n >= minHexBlob && n%2 == 0 {
			decoded, _ = hex.DecodeString(t[start:i])
		} else if !hexOnly {
			decoded = decodeBase64(t[start:i])
		}
		if len(decoded) == 0 || !readable(decoded) {
			continue
		}
		r.scanDecoded(start, i, string(decoded))
	}
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
