package detectors

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxExcerpt bounds excerpts in bytes: enough to recognise an attack in a
// log line, too little to carry a working payload onward.
const maxExcerpt = 80

// excerpt renders attack text for logs: invisible and control runes are
// escaped (\u200b, \x1b), the result is valid UTF-8 and at most maxExcerpt
// bytes, with "…" marking a cut.
func excerpt(s string) string { return excerptN(s, maxExcerpt) }

// labelled prefixes an excerpt with a label, keeping the total in bounds.
func labelled(label, s string) string { return label + excerptN(s, maxExcerpt-len(label)) }

func excerptN(s string, limit int) string {
	const ellipsis = "…"
	var b strings.Builder
	for i, r := range s {
		var piece string
		switch {
		case r == utf8.RuneError && isInvalidAt(s, i):
			piece = fmt.Sprintf(`\x%02x`, s[i])
		case r == '\n':
			piece = `\n`
		case r == '\t':
			piece = `\t`
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
			piece = fmt.Sprintf(`\x%02x`, r)
		case invisibleKind(r) != invNone || unicode.Is(unicode.Cf, r):
			if r > 0xffff {
				piece = fmt.Sprintf(`\U%08x`, r)
			} else {
				piece = fmt.Sprintf(`\u%04x`, r)
			}
		default:
			piece = string(r)
		}
		if b.Len()+len(piece) > limit-len(ellipsis) {
			// Cut only if something actually remains after this rune.
			if b.Len()+len(piece) > limit || i+utf8.RuneLen(r) < len(s) {
				b.WriteString(ellipsis)
				return b.String()
			}
		}
		b.WriteString(piece)
	}
	return b.String()
}

func isInvalidAt(s string, i int) bool {
	_, size := utf8.DecodeRuneInString(s[i:])
	return size <= 1
}

// redactKeep masks a secret or personal datum: only the first keep bytes
// (a well-known, non-secret prefix such as "AKIA" or "ghp_") stay visible,
// followed by the count of hidden bytes: "AKIA…[redacted 16]".
func redactKeep(secret string, keep int) string {
	keep = min(max(keep, 0), len(secret), 16)
	for keep > 0 && keep < len(secret) && !utf8.RuneStart(secret[keep]) {
		keep--
	}
	prefix := excerpt(secret[:keep])
	return prefix + "…[redacted " + strconv.Itoa(len(secret)-keep) + "]"
}

// maskedExcerpt renders text[start:end] with every overlapping masked span
// replaced by "[redacted]", when there is one: an injection or exfiltration
// phrase around a key must not carry the key into a log.
func maskedExcerpt(text string, start, end int, masked [][2]int) (string, bool) {
	var cut [][2]int
	for _, m := range masked {
		if lo, hi := max(m[0], start), min(m[1], end); lo < hi {
			cut = append(cut, [2]int{lo, hi})
		}
	}
	if len(cut) == 0 {
		return "", false
	}
	slices.SortFunc(cut, func(a, b [2]int) int { return a[0] - b[0] })
	var b strings.Builder
	at := start
	for i, c := range cut {
		if c[1] <= at {
			continue // inside a span already masked
		}
		if c[0] > at || i == 0 {
			b.WriteString(text[at:max(at, c[0])])
			b.WriteString("[redacted]")
		}
		at = c[1]
	}
	b.WriteString(text[at:end])
	return excerpt(b.String()), true
}

// EvidenceHash is Finding.Evidence for the matched text: 16 hex digits
// (64 bits) of its SHA-256, short enough to copy into a suppression and
// far too long to forge a second text with the same digits.
func EvidenceHash(matched string) string {
	sum := sha256.Sum256([]byte(matched))
	var buf [16]byte
	hex.Encode(buf[:], sum[:8])
	return string(buf[:])
}

// schemeLen returns the length of "scheme://" at the start of s, or 0.
func schemeLen(s string) int {
	i := strings.Index(s, "://")
	if i <= 0 || i > 20 {
		return 0
	}
	return i + 3
}
