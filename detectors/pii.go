package detectors

import (
	"encoding/binary"
	"regexp"
)

// Number-shaped personal data: payment cards, IBANs, US SSNs and phone
// numbers. A byte scanner finds digit clusters (digits with single
// separators); each cluster is classified, and the checksums (Luhn, mod-97)
// or valid ranges are the real test. Formats are kept conservative: a
// false "phone number" on every order id would drown the real findings.

// maxNumberRun bounds a digit cluster so pathological input stays linear;
// clusters shorter than minNumberRun bytes cannot hold nine digits.
const (
	maxNumberRun = 48
	minNumberRun = 9
)

var nanpPhone = regexp.MustCompile(`^(?:\+?1[ .-]?)?(?:\([2-9]\d{2}\) ?|[2-9]\d{2}[.-])[2-9]\d{2}[.-]\d{4}$`)

func (r *scanRun) scanNumbers() {
	t := r.text
	for i := 0; i < len(t); i++ {
		// Digits are rare in prose: skip eight digit-free bytes at a time.
		for i+8 <= len(t) && !hasDigit8(t, i) {
			i += 8
		}
		if i >= len(t) || !isDigit(t[i]) {
			continue
		}
		start := i
		if start >= 2 && isUpper(t[start-2]) && isUpper(t[start-1]) && (start == 2 || !isAlnum(t[start-3])) {
			if end := ibanEnd(t, start-2); end > 0 {
				r.add(r.s.ids.iban, start-2, end)
				i = end - 1
				continue
			}
		}
		end := numberRunEnd(t, i)
		if end-i < minNumberRun { // every number classifyNumber reports has 9+ digits
			i = end - 1
			continue
		}
		if start > 0 && (t[start-1] == '+' || t[start-1] == '(') {
			start--
		}
		i = end - 1
		if start > 0 && (isAlnum(t[start-1]) || t[start-1] == '-' || t[start-1] == '.' || t[start-1] == '/' || t[start-1] == '_') {
			continue // part of an identifier, version or path
		}
		if end < len(t) && (isAlnum(t[end]) || t[end] == '_' || t[end] == '-' && end+1 < len(t) && isDigit(t[end+1])) {
			continue
		}
		r.classifyNumber(start, end)
	}
}

// numberRunEnd extends a cluster over digits and single separators that are
// followed by a digit ("4111 1111-1111", "(555) 123-4567").
func numberRunEnd(t string, i int) int {
	limit := min(len(t), i+maxNumberRun)
	for i < limit {
		switch c := t[i]; {
		case isDigit(c):
			i++
		case c == ' ' || c == '-' || c == '.' || c == ')':
			j := i + 1
			if c == ')' && j < len(t) && t[j] == ' ' {
				j++
			}
			if j < len(t) && isDigit(t[j]) {
				i = j
				continue
			}
			if c == ')' {
				return i + 1
			}
			return i
		default:
			return i
		}
	}
	return i
}

func (r *scanRun) classifyNumber(start, end int) {
	s := r.text[start:end]
	var digits [maxNumberRun]byte
	nd := 0
	seps := 0
	var sep byte
	mixedSeps := false
	for i := 0; i < len(s); i++ {
		if isDigit(s[i]) {
			digits[nd] = s[i] - '0'
			nd++
			continue
		}
		seps++
		if sep == 0 {
			sep = s[i]
		} else if sep != s[i] {
			mixedSeps = true
		}
	}
	if nd < 9 {
		return
	}
	d := digits[:nd]
	switch {
	case len(s) == 11 && s[3] == '-' && s[6] == '-' && nd == 9:
		if validSSN(d) {
			r.add(r.s.ids.ssn, start, end)
		}
		return
	case s[0] == '+' && nd >= 8 && nd <= 15 && seps >= 1:
		r.add(r.s.ids.phone, start, end)
		return
	case nanpPhone.MatchString(s):
		r.add(r.s.ids.phone, start, end)
		return
	}
	if nd >= 13 && nd <= 19 && !mixedSeps && (sep == 0 || sep == ' ' || sep == '-') && cardPrefix(d) && luhn(d) && !allSame(d) {
		r.add(r.s.ids.card, start, end)
	}
}

// validSSN applies the SSA rules: area not 000, 666 or 9xx; group not 00;
// serial not 0000.
func validSSN(d []byte) bool {
	area := int(d[0])*100 + int(d[1])*10 + int(d[2])
	group := int(d[3])*10 + int(d[4])
	serial := int(d[5])*1000 + int(d[6])*100 + int(d[7])*10 + int(d[8])
	return area != 0 && area != 666 && area < 900 && group != 0 && serial != 0
}

// cardPrefix accepts the issuer ranges of the major networks, which keeps
// random Luhn-valid numbers (one in ten) from counting.
func cardPrefix(d []byte) bool {
	p2 := int(d[0])*10 + int(d[1])
	p4 := p2*100 + int(d[2])*10 + int(d[3])
	switch {
	case d[0] == 4: // Visa
		return true
	case p2 >= 51 && p2 <= 55, p4 >= 2221 && p4 <= 2720: // Mastercard
		return true
	case p2 == 34 || p2 == 37: // Amex
		return len(d) == 15
	case p4 == 6011 || p2 == 65 || p2 == 64: // Discover
		return true
	case p2 == 35, p2 == 30 || p2 == 36 || p2 == 38: // JCB, Diners
		return true
	}
	return false
}

func luhn(d []byte) bool {
	sum := 0
	for i := 0; i < len(d); i++ {
		v := int(d[len(d)-1-i])
		if i%2 == 1 {
			v *= 2
			if v > 9 {
				v -= 9
			}
		}
		sum += v
	}
	return sum%10 == 0
}

func allSame(d []byte) bool {
	for _, x := range d {
		if x != d[0] {
			return false
		}
	}
	return true
}

// ibanLengths lists the IBAN length per country for the countries whose
// IBANs are common; unknown countries fall back to 15–34.
var ibanLengths = map[string]int{
	"AD": 24, "AT": 20, "BE": 16, "BG": 22, "CH": 21, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "EE": 20,
	"ES": 24, "FI": 18, "FR": 27, "GB": 22, "GR": 27, "HR": 21, "HU": 28, "IE": 22, "IS": 26, "IT": 27,
	"LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MT": 31, "NL": 18, "NO": 15, "PL": 28, "PT": 25,
	"RO": 24, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "TR": 26, "AE": 23, "SA": 24, "IL": 23, "BR": 29,
}

// ibanEnd parses an IBAN at p (compact or in groups of four separated by
// single spaces) and returns its end if the mod-97 check passes, else 0.
func ibanEnd(t string, p int) int {
	var buf [34]byte
	n := 0
	i := p
	for i < len(t) && n < len(buf) {
		c := t[i]
		if isUpper(c) || isDigit(c) {
			buf[n] = c
			n++
			i++
			if want, ok := ibanLengths[string(buf[:2])]; ok && n == want {
				break
			}
			continue
		}
		if c == ' ' && n%4 == 0 && i+1 < len(t) && (isUpper(t[i+1]) || isDigit(t[i+1])) {
			i++
			continue
		}
		break
	}
	if n < 15 || !isDigit(buf[2]) || !isDigit(buf[3]) {
		return 0
	}
	if want, ok := ibanLengths[string(buf[:2])]; ok && n != want {
		return 0
	}
	if i < len(t) && isAlnum(t[i]) {
		return 0
	}
	// mod-97 over the rearranged string, letters as 10..35.
	rem := 0
	for k := 0; k < n; k++ {
		c := buf[(k+4)%n]
		if isDigit(c) {
			rem = (rem*10 + int(c-'0')) % 97
		} else {
			rem = (rem*100 + int(c-'A') + 10) % 97
		}
	}
	if rem != 1 {
		return 0
	}
	return i
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
func isUpper(c byte) bool { return 'A' <= c && c <= 'Z' }
func isAlnum(c byte) bool { return isDigit(c) || 'a' <= c|0x20 && c|0x20 <= 'z' }

// hasDigit8 reports whether t[i:i+8] holds an ASCII digit, testing the
// eight bytes as one word (the "has byte between" bit trick; bytes >= 0x80
// never count).
func hasDigit8(t string, i int) bool {
	// The []byte conversion of a slice that does not escape is free, and
	// Uint64 compiles to one load.
	x := binary.LittleEndian.Uint64([]byte(t[i : i+8]))
	const (
		ones  = 0x0101010101010101
		low7  = ones * 0x7f
		highs = ones * 0x80
		lo    = '0' - 1 // exclusive bounds
		hi    = '9' + 1
	)
	return (ones*(127+hi)-(x&low7))&^x&((x&low7)+ones*(127-lo))&highs != 0
}
