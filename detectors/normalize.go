package detectors

import (
	"encoding/binary"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Normalisation folds the text into the one canonical form every phrase
// rule is written against:
//
//   - compatibility folding per rune (the "K" of NFKC): fullwidth letters,
//     mathematical alphanumerics, ligatures and similar presentation forms
//     become their plain letters. Canonical composition is deliberately not
//     applied: it would reorder and merge runes across boundaries, and the
//     same folding is applied to the phrase tables, so both sides agree;
//   - common Cyrillic and Greek lookalikes map to the Latin letter they
//     imitate (so "іgnore" with a Cyrillic і reads as "ignore");
//   - simple lower-casing;
//   - invisible characters (zero-width, bidi controls, tag characters, soft
//     hyphen, variation selectors) and ANSI escape sequences are dropped, so
//     "ig\u200bnore" reads as "ignore". They are reported separately.

// foldRune appends the normalised form of the rune r (which starts src) to
// dst, and reports whether a lookalike mapping was applied.
func foldRune(dst []byte, src string, r rune) ([]byte, bool) {
	if r < utf8.RuneSelf {
		return append(dst, lowerASCII(byte(r))), false
	}
	if d := compatDecomposition(src); d != "" {
		conf := false
		for _, dr := range d {
			var c bool
			dst, c = foldOne(dst, dr)
			conf = conf || c
		}
		return dst, conf
	}
	return foldOne(dst, r)
}

// unfolded reports runes of scripts that have no case, no lookalike
// mapping and no compatibility decomposition in these ranges, so folding
// copies them unchanged; checking the range first skips the Unicode table
// lookups for most non-Latin text.
func unfolded(r rune) bool {
	switch {
	case r >= 0x4E00 && r <= 0x9FFF: // CJK unified ideographs
	case r >= 0xAC00 && r <= 0xD7A3: // Hangul syllables (canonical decomposition only)
	case r >= 0x3041 && r <= 0x3096, r >= 0x30A1 && r <= 0x30FA: // kana
	case r >= 0x0621 && r <= 0x064A: // Arabic letters
	case r >= 0x0900 && r <= 0x0957: // Devanagari
	case r >= 0x0980 && r <= 0x09FF: // Bengali
	default:
		return false
	}
	return true
}

// compatDecomposition returns the compatibility-only decomposition of the
// first rune of s, or "" if the rune has none (or only a canonical one).
func compatDecomposition(s string) string {
	pk := norm.NFKC.PropertiesString(s)
	if pk.Decomposition() == nil {
		return ""
	}
	if norm.NFC.PropertiesString(s).Decomposition() != nil {
		return ""
	}
	return string(pk.Decomposition())
}

func foldOne(dst []byte, r rune) ([]byte, bool) {
	// Lower-case first, so "Какой" and "какой" fold alike: mapping only the
	// capital К to a Latin k would split one Cyrillic word two ways.
	r = unicode.ToLower(r)
	if c := confusable(r); c != 0 {
		return append(dst, c), true
	}
	return utf8.AppendRune(dst, r), false
}

// confusable maps Cyrillic and Greek letters that render like a Latin
// letter to that (lower-case) letter, or returns 0. Only the unambiguous,
// commonly abused lookalikes are listed.
func confusable(r rune) byte {
	switch {
	case r >= 0x0370 && r < 0x0400:
		return greekLookalikes[r-0x0370]
	case r >= 0x0400 && r < 0x0530:
		return cyrillicLookalikes[r-0x0400]
	}
	return 0
}

var greekLookalikes = func() (t [0x90]byte) {
	for r, c := range map[rune]byte{
		'Α': 'a', 'Β': 'b', 'Ε': 'e', 'Ζ': 'z', 'Η': 'h', 'Ι': 'i', 'Κ': 'k', 'Μ': 'm', 'Ν': 'n', 'Ο': 'o', 'Ρ': 'p', 'Τ': 't', 'Υ': 'y', 'Χ': 'x',
		'α': 'a', 'ι': 'i', 'κ': 'k', 'ν': 'v', 'ο': 'o', 'ρ': 'p', 'τ': 't', 'υ': 'u', 'χ': 'x', 'ϲ': 'c', 'ϳ': 'j',
	} {
		t[r-0x0370] = c
	}
	lowerCovers(t[:], 0x0370)
	return t
}()

var cyrillicLookalikes = func() (t [0x130]byte) {
	for r, c := range map[rune]byte{
		'А': 'a', 'В': 'b', 'Е': 'e', 'К': 'k', 'М': 'm', 'Н': 'h', 'О': 'o', 'Р': 'p', 'С': 'c', 'Т': 't', 'Х': 'x', 'У': 'y', 'Ѕ': 's', 'І': 'i', 'Ј': 'j',
		'а': 'a', 'е': 'e', 'о': 'o', 'р': 'p', 'с': 'c', 'у': 'y', 'х': 'x', 'ѕ': 's', 'і': 'i', 'ј': 'j', 'ԁ': 'd', 'ӏ': 'l', 'һ': 'h', 'ԛ': 'q', 'ԝ': 'w', 'ѵ': 'v',
	} {
		t[r-0x0400] = c
	}
	lowerCovers(t[:], 0x0400)
	return t
}()

// lowerCovers gives each lower-case letter the mapping of its capital when
// it has none of its own, since folding looks letters up after lower-casing.
func lowerCovers(t []byte, base rune) {
	for i, c := range t {
		if c == 0 {
			continue
		}
		if lo := unicode.ToLower(base + rune(i)); lo != base+rune(i) && lo >= base && int(lo-base) < len(t) && t[lo-base] == 0 {
			t[lo-base] = c
		}
	}
}

// normalisePhrase folds the non-ASCII runes of a pattern or keyword the way
// text is folded. ASCII is left alone so regexp syntax (escapes, classes)
// survives; patterns are written in lower case and compiled with (?i).
func normalisePhrase(p string) string {
	var b []byte
	for i, r := range p {
		if r < utf8.RuneSelf {
			b = append(b, byte(r))
			continue
		}
		if invisibleKind(r) != 0 {
			continue
		}
		b, _ = foldRune(b, p[i:], r)
	}
	return string(b)
}

// Kinds of invisible runes, which normalisation drops.
const (
	invNone = iota
	invZeroWidth
	invBidi
	invTag
	invVS    // variation selectors: dropped; long runs are reported
	invOther // soft hyphen, Mongolian vowel separator: dropped, never reported
)

func invisibleKind(r rune) int {
	switch {
	case r == 0x200B || r == 0x200C || r == 0x200D || r == 0x2060 || r == 0xFEFF:
		return invZeroWidth
	case r >= 0x202A && r <= 0x202E, r >= 0x2066 && r <= 0x2069:
		return invBidi
	case r >= 0xE0000 && r <= 0xE007F:
		return invTag
	case r >= 0xFE00 && r <= 0xFE0F, r >= 0xE0100 && r <= 0xE01EF:
		return invVS
	case r == 0x00AD, r == 0x180E:
		return invOther
	}
	return invNone
}

// isPlainASCII reports whether text can skip normalisation: ASCII only and
// no ESC (which starts ANSI sequences).
func isPlainASCII(text string) bool { return asciiRunEnd(text, 0) == len(text) }

// asciiRunEnd returns the end of the run of plain ASCII (no ESC) starting
// at i, testing eight bytes at a time.
func asciiRunEnd(text string, i int) int {
	for ; i+8 <= len(text); i += 8 {
		w := binary.LittleEndian.Uint64([]byte(text[i : i+8]))
		// Zero-byte test on w^ESC: any byte equal to 0x1b becomes 0.
		x := w ^ 0x1b1b1b1b1b1b1b1b
		if w&0x8080808080808080 != 0 || (x-0x0101010101010101)&^x&0x8080808080808080 != 0 {
			break
		}
	}
	for ; i < len(text); i++ {
		if text[i] >= utf8.RuneSelf || text[i] == 0x1b {
			break
		}
	}
	return i
}
