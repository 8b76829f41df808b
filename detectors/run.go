package detectors

import (
	"regexp"
	"slices"
	"unicode/utf8"
)

// scanRun is the mutable state of one Scan call. It is recycled through
// Scanner.runs, so its slices keep their capacity between scans.
type scanRun struct {
	s     *Scanner
	text  string // original text
	depth int
	tool  bool

	// norm is the normalised text; when mapped, offsets maps its bytes back
	// to the original (else norm == text).
	norm    string
	mapped  bool
	offsets offsetMap
	nbuf    []byte
	lbuf    []byte // lower-cased window on the ASCII path
	spans   [][2]int

	findings []Finding
	wins     []window
	lastWin  []int32     // per trigger: index into wins of its latest window, or -1
	lastNear []int32     // per trigger: end of its latest "near" companion hit, or -1
	alsoEnd  [][]int32   // per trigger: ends of its "also" companion hits, in order
	mixed    [][2]int32  // normalised spans of mixed-script (homoglyph) words
	mixedCur int         // first mixed span that may still overlap a hit
	hidden   []hiddenRun // tag-character runs to decode and scan
	lastRule []int32     // result(): per rule, index of the last kept finding
	ruleHits []int32     // findings per rule so far, to cap regexp work
	hits     []acHit     // keyword occurrences, and scratch for the scan
	masked   [][2]int    // result(): spans no excerpt may show
	hits2    []acHit
	sbuf     []byte // scanSpaced: the collapsed text of a letter-spaced run
}

// Caps that keep text built to be expensive (an attack repeated thousands
// of times) linear and cheap: a rule stops being verified once it has
// maxRuleFindings findings, and one window never grows past maxWindow
// bytes, so a regexp never runs over a whole megabyte at once.
const (
	maxRuleFindings = 16
	maxWindow       = 4 << 10
)

// window is a span of normalised text where one trigger's regexp must run.
type window struct {
	trig   int32
	lo, hi int32
}

func (r *scanRun) reset(text string, depth int, tool bool) {
	r.text, r.depth, r.tool = text, depth, tool
	r.norm, r.mapped = "", false
	r.findings = r.findings[:0]
	r.wins = r.wins[:0]
	r.mixed = r.mixed[:0]
	r.mixedCur = 0
	r.hidden = r.hidden[:0]
	if len(r.ruleHits) != len(ruleTable) {
		r.ruleHits = make([]int32, len(ruleTable))
	}
	clear(r.ruleHits)
	if len(r.lastWin) != len(r.s.triggers) {
		r.lastWin = make([]int32, len(r.s.triggers))
		r.lastNear = make([]int32, len(r.s.triggers))
		r.alsoEnd = make([][]int32, len(r.s.triggers))
	}
	for i := range r.alsoEnd {
		r.alsoEnd[i] = r.alsoEnd[i][:0]
	}
	for i := range r.lastWin {
		r.lastWin[i] = -1
		r.lastNear[i] = -1
	}
}

// release drops references to caller data before the run is pooled.
func (r *scanRun) release() {
	r.text, r.norm = "", ""
	clear(r.findings[:cap(r.findings)])
	r.findings = r.findings[:0]
}

func (r *scanRun) run() {
	if isPlainASCII(r.text) {
		r.norm = r.text
	} else {
		r.normalise()
	}
	s := r.s
	r.hits, r.hits2 = s.ac.scan(r.norm, r.hits[:0], r.hits2)
	for _, h := range r.hits {
		r.onKeyword(h.kw, int(h.end))
	}
	for _, w := range r.wins {
		r.verify(w)
	}
	if len(r.findings) > 0 {
		r.demoteQuoted()
		r.combine()
		r.scanHiddenCSS()
	}
	r.scanNumbers()
	if r.depth < maxDepth {
		r.scanHidden()
		r.scanEncoded()
		r.scanPercent()
		r.scanSpaced()
	}
}

// onKeyword opens or extends the window of every trigger of keyword kw.
func (r *scanRun) onKeyword(kw int32, end int) {
	s := r.s
	start := end - int(s.ac.kwLen[kw])
	for _, kr := range s.kwTrig[kw] {
		ti := kr.trig
		switch kr.role {
		case roleNear:
			r.lastNear[ti] = int32(end)
			continue
		case roleAlso:
			r.alsoEnd[ti] = append(r.alsoEnd[ti], int32(end))
			continue
		}
		t := &s.triggers[ti]
		if t.toolOnly && !r.tool {
			continue
		}
		if t.needNear && (r.lastNear[ti] < 0 || int(r.lastNear[ti]) < start-t.before) {
			continue
		}
		if t.phrase && len(r.mixed) > 0 {
			r.checkHomoglyph(start, end)
		}
		lo, hi := max(0, start-t.before), min(len(r.norm), end+t.after)
		if wi := r.lastWin[ti]; wi >= 0 && int(r.wins[wi].hi) >= lo && hi-int(r.wins[wi].lo) <= maxWindow {
			r.wins[wi].hi = int32(max(int(r.wins[wi].hi), hi))
			continue
		}
		r.lastWin[ti] = int32(len(r.wins))
		r.wins = append(r.wins, window{trig: ti, lo: int32(lo), hi: int32(hi)})
	}
}

// verify runs a trigger's regexp over its window.
func (r *scanRun) verify(w window) {
	t := &r.s.triggers[w.trig]
	if r.ruleHits[t.rule] >= maxRuleFindings {
		return
	}
	if t.needAlso && !r.hasAlso(w) {
		return
	}
	lo, hi := snapRune(r.norm, int(w.lo)), snapRune(r.norm, int(w.hi))
	if t.onOrig {
		olo, ohi := r.origWindow(lo, hi)
		r.verifyOrig(t, olo, ohi)
		return
	}
	// Phrase patterns are lower-case only, so they run without (?i), which
	// is much cheaper in RE2: the normalised text is already lower-case, and
	// on the ASCII fast path the window is lower-cased into a scratch buffer.
	// ASCII is lower-cased here, per window, rather than over the whole
	// text: the keyword automaton ignores ASCII case by itself.
	r.lbuf = appendPhraseWindow(r.lbuf[:0], r.norm[lo:hi])
	r.verifyRE(t, t.re, lo)
}

// verifyRE runs one regexp of trigger t over the lower-cased window in
// r.lbuf, which starts at lo in the normalised text.
func (r *scanRun) verifyRE(t *trigger, re *regexp.Regexp, lo int) {
	sub := r.lbuf
	if !re.Match(sub) {
		return
	}
	for _, m := range re.FindAllSubmatchIndex(sub, -1) {
		a, b := m[0], m[1]
		if len(m) >= 4 && m[2] >= 0 { // group 1, when present, is the span
			a, b = m[2], m[3]
		}
		os, oe := r.toOrig(lo+a, lo+b)
		if t.check != nil {
			m := string(sub[a:b])
			if t.checkOrig {
				m = r.text[os:oe]
			}
			if !t.check(m) {
				continue
			}
		}
		r.add(t.rule, os, oe)
	}
}

// hasAlso reports whether one of the window's "also" companions ends
// inside it. Companion hits are in order of end, so a binary search finds
// the first one past the window's start.
func (r *scanRun) hasAlso(w window) bool {
	ends := r.alsoEnd[w.trig]
	i, _ := slices.BinarySearch(ends, w.lo+1)
	return i < len(ends) && ends[i] <= w.hi
}

// appendPhraseWindow lower-cases ASCII and reads JSON string escapes as
// what they stand for, keeping every offset: text inside a JSON string
// value ("…\nIgnore all previous instructions…") must match like the
// decoded text would. \n becomes " \n", \t and \r two spaces, \" ` "`.
func appendPhraseWindow(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\\' && i+1 < len(s) && (i == 0 || s[i-1] != '\\') {
			switch s[i+1] {
			case 'n':
				dst = append(dst, ' ', '\n')
				i++
				continue
			case 't', 'r':
				dst = append(dst, ' ', ' ')
				i++
				continue
			case '"':
				dst = append(dst, ' ', '"')
				i++
				continue
			}
		}
		dst = append(dst, lowerASCII(c))
	}
	return dst
}

func (r *scanRun) verifyOrig(t *trigger, lo, hi int) {
	if t.find != nil {
		r.spans = t.find(r.text, lo, hi, r.spans[:0])
		for _, sp := range r.spans {
			if t.check != nil && !t.check(r.text[sp[0]:sp[1]]) {
				continue
			}
			r.addOrig(t, sp[0], sp[1])
		}
		return
	}
	sub := r.text[lo:hi]
	if !t.re.MatchString(sub) {
		return
	}
	for _, m := range t.re.FindAllStringSubmatchIndex(sub, -1) {
		a, b := m[0], m[1]
		if len(m) >= 4 && m[2] >= 0 {
			a, b = m[2], m[3]
		}
		if t.check != nil && !t.check(sub[a:b]) {
			continue
		}
		r.addOrig(t, lo+a, lo+b)
	}
}

// addOrig records a match in the original text: masked, with the known
// prefix kept, for secrets; excerpted otherwise.
func (r *scanRun) addOrig(t *trigger, start, end int) {
	if !ruleTable[t.rule].redact {
		r.add(t.rule, start, end)
		return
	}
	secret := r.text[start:end]
	keep := t.keep
	if keep < 0 { // URL credentials: keep the scheme
		keep = schemeLen(secret)
	}
	r.addExcerpt(t.rule, start, end, redactKeep(secret, keep))
}

// snapRune moves i back to the start of the rune containing it.
func snapRune(s string, i int) int {
	for i > 0 && i < len(s) && !utf8.RuneStart(s[i]) {
		i--
	}
	return i
}

// toOrig maps a normalised span to the original text.
func (r *scanRun) toOrig(ns, ne int) (int, int) {
	if !r.mapped {
		return ns, ne
	}
	if len(r.norm) == 0 {
		return len(r.text), len(r.text)
	}
	if ne <= ns {
		p := r.offsets.start(min(ns, len(r.norm)-1))
		return p, p
	}
	return r.offsets.start(ns), r.offsets.end(ne - 1)
}

// origWindow maps a normalised window to the original text, widening it to
// whole original runes.
func (r *scanRun) origWindow(lo, hi int) (int, int) {
	if !r.mapped {
		return lo, hi
	}
	olo, ohi := 0, len(r.text)
	if lo < len(r.norm) {
		olo = r.offsets.start(lo)
	}
	if hi < len(r.norm) {
		ohi = r.offsets.start(hi)
	}
	return olo, ohi
}

// add records a finding whose excerpt comes from the original text.
func (r *scanRun) add(rule, start, end int) {
	var ex string
	if ruleTable[rule].redact {
		ex = redactKeep(r.text[start:end], 0)
	} else {
		ex = excerpt(r.text[start:end])
	}
	r.addExcerpt(rule, start, end, ex)
}

func (r *scanRun) addExcerpt(rule, start, end int, ex string) {
	info := &ruleTable[rule]
	r.ruleHits[rule]++
	r.findings = append(r.findings, Finding{
		Rule: info.id, Category: info.category, Severity: r.s.sev[rule],
		Start: start, End: end, Excerpt: ex,
	})
}

// result sorts, merges overlapping findings of the same rule, filters by
// the options (unless raw) and returns a fresh slice, or nil.
func (r *scanRun) result(raw bool) []Finding {
	if len(r.findings) == 0 {
		return nil
	}
	s := r.s
	slices.SortFunc(r.findings, compareFindings)
	if len(r.lastRule) != len(ruleTable) {
		r.lastRule = make([]int32, len(ruleTable))
	}
	for i := range r.lastRule {
		r.lastRule[i] = -1
	}
	// Spans of secrets and personal data, including those of disabled
	// rules, which no other finding's excerpt may show.
	masked := r.masked[:0]
	for _, f := range r.findings {
		if ruleTable[s.byID[f.Rule]].redact {
			masked = append(masked, [2]int{f.Start, f.End})
		}
	}
	r.masked = masked
	kept := r.findings[:0]
	for _, f := range r.findings {
		ri := s.byID[f.Rule]
		if !raw && !(s.enabled[ri] && f.Severity >= s.minSev) {
			continue
		}
		if li := r.lastRule[ri]; li >= 0 && f.Start < kept[li].End {
			kept[li].End = max(kept[li].End, f.End)
			continue
		}
		r.lastRule[ri] = int32(len(kept))
		kept = append(kept, f)
	}
	if len(kept) == 0 {
		return nil
	}
	for i := range kept {
		f := &kept[i]
		f.Evidence = EvidenceHash(r.text[f.Start:f.End])
		if !ruleTable[s.byID[f.Rule]].redact {
			if ex, ok := maskedExcerpt(r.text, f.Start, f.End, masked); ok {
				f.Excerpt = ex
			}
		}
	}
	return slices.Clone(kept)
}
