// Package jsondepth measures how deeply a JSON text nests, in one linear,
// non-recursive pass, so that hostile input can be refused before a
// recursive parser or walker (gjson validation, ForEach) runs over it: a
// recursive descent over 4 MiB of brackets grows a goroutine stack to
// hundreds of megabytes, and walks that re-read each level cost the square
// of the depth.
package jsondepth

// Exceeds reports whether b nests arrays and objects deeper than limit
// (a document "{}" or "[]" has depth 1; scalars 0). Brackets inside
// strings do not count; a backslash escapes the next byte, exactly as a
// JSON lexer reads strings, so the count agrees with any parser that
// accepts b. b need not be valid JSON: unbalanced closers are ignored and
// the parser that runs next rejects it.
func Exceeds(b []byte, limit int) bool {
	_, over := measure(b, limit)
	return over
}

// Depth returns the greatest nesting depth of b, for tests and benchmarks.
func Depth(b []byte) int {
	d, _ := measure(b, -1)
	return d
}

// measure returns the greatest depth seen and whether it passed limit
// (limit < 0: no limit, scan it all). It stops at the first level past the
// limit, so refusing costs no more than reading up to that point.
func measure(b []byte, limit int) (deepest int, over bool) {
	depth := 0
	for i := 0; i < len(b); i++ {
		switch b[i] {
		case '"':
			i = stringEnd(b, i+1)
		case '[', '{':
			depth++
			if depth > deepest {
				deepest = depth
				if limit >= 0 && depth > limit {
					return deepest, true
				}
			}
		case ']', '}':
			if depth > 0 {
				depth--
			}
		}
	}
	return deepest, false
}

// stringEnd returns the index of the quote closing a string whose contents
// start at i, or len(b) if the string never ends.
func stringEnd(b []byte, i int) int {
	for ; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++ // the escaped byte, whatever it is, cannot end the string
		case '"':
			return i
		}
	}
	return len(b)
}
