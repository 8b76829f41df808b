package detectors

// acMatcher is a byte-level Aho-Corasick automaton compiled to a full DFA,
// so the scan loop is one table lookup per byte with no failure-link chasing.
//
// Bytes are mapped to equivalence classes first (every byte that occurs in
// no keyword shares class 0), which keeps each DFA row short and the table
// small enough to stay in cache. Upper-case ASCII maps to the class of its
// lower-case letter, so the automaton matches ASCII case-insensitively and
// the ASCII fast path needs no lower-cased copy of the text.
type acMatcher struct {
	class    [256]uint16
	nclass   int
	delta    []uint32 // state row offset (state*nclass) | acHasOut
	outStart []int32  // per state: outputs are outs[outStart[s]:outStart[s+1]]
	outs     []int32  // keyword indexes
	kwLen    []int32  // byte length of each keyword
	maxKwLen int32
}

// acHasOut marks a transition into a state that ends at least one keyword,
// letting the hot loop test one bit instead of loading output lists.
const acHasOut = 1 << 31

func lowerASCII(b byte) byte { return lowerTable[b] }

// lowerTable lower-cases ASCII letters and leaves every other byte alone.
var lowerTable = func() (t [256]byte) {
	for i := range t {
		t[i] = byte(i)
		if 'A' <= i && i <= 'Z' {
			t[i] = byte(i + 'a' - 'A')
		}
	}
	return t
}()

// newACMatcher builds the automaton. Keywords must already be normalised
// (lower-case); duplicates are fine.
func newACMatcher(keywords []string) *acMatcher {
	m := &acMatcher{kwLen: make([]int32, len(keywords))}
	used := [256]bool{}
	for i, k := range keywords {
		m.kwLen[i] = int32(len(k))
		m.maxKwLen = max(m.maxKwLen, int32(len(k)))
		for j := 0; j < len(k); j++ {
			used[k[j]] = true
		}
	}
	n := uint16(1)
	for b := 0; b < 256; b++ {
		if used[b] {
			m.class[b] = n
			n++
		}
	}
	for b := 'A'; b <= 'Z'; b++ {
		m.class[b] = m.class[b+'a'-'A']
	}
	m.nclass = int(n)

	// Trie with sparse children, then BFS for failure links.
	type node struct {
		next map[uint16]int32
		fail int32
		out  []int32
	}
	nodes := []node{{next: map[uint16]int32{}}}
	for i, k := range keywords {
		s := int32(0)
		for j := 0; j < len(k); j++ {
			c := m.class[k[j]]
			nx, ok := nodes[s].next[c]
			if !ok {
				nx = int32(len(nodes))
				nodes = append(nodes, node{next: map[uint16]int32{}})
				nodes[s].next[c] = nx
			}
			s = nx
		}
		nodes[s].out = append(nodes[s].out, int32(i))
	}
	nc := m.nclass
	goto_ := make([]int32, len(nodes)*nc)
	queue := make([]int32, 0, len(nodes))
	for c := 0; c < nc; c++ {
		if nx, ok := nodes[0].next[uint16(c)]; ok {
			goto_[c] = nx
			queue = append(queue, nx)
		}
	}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		f := nodes[s].fail
		nodes[s].out = append(nodes[s].out, nodes[f].out...)
		for c := 0; c < nc; c++ {
			if nx, ok := nodes[s].next[uint16(c)]; ok {
				nodes[nx].fail = goto_[int(f)*nc+c]
				goto_[int(s)*nc+c] = nx
				queue = append(queue, nx)
			} else {
				goto_[int(s)*nc+c] = goto_[int(f)*nc+c]
			}
		}
	}
	m.delta = make([]uint32, len(goto_))
	for i, t := range goto_ {
		v := uint32(int(t) * nc)
		if len(nodes[t].out) > 0 {
			v |= acHasOut
		}
		m.delta[i] = v
	}
	m.outStart = make([]int32, len(nodes)+1)
	for s := range nodes {
		m.outStart[s] = int32(len(m.outs))
		m.outs = append(m.outs, nodes[s].out...)
	}
	m.outStart[len(nodes)] = int32(len(m.outs))
	return m
}

// acHit is one keyword occurrence: keyword index and end offset.
type acHit struct{ kw, end int32 }

// minSplitScan is the text length from which scan runs two automata at
// once; below it the set-up is not worth it.
const minSplitScan = 256

// scan appends every keyword occurrence in text to hits, in order of end
// offset, and returns the slice; scratch is a second buffer it may use,
// returned for reuse.
//
// Each step of the automaton waits on the table load of the step before,
// so one automaton leaves the CPU mostly idle. On long texts two run in the
// same loop over the two halves, which nearly doubles the throughput. The
// second starts maxKwLen bytes before the middle, so every keyword ending
// in its half is seen whole; its hits ending in the first half are dropped,
// as the first automaton reports those.
func (m *acMatcher) scan(text string, hits, scratch []acHit) ([]acHit, []acHit) {
	n := len(text)
	if n < minSplitScan {
		return m.scanFrom(text, 0, 0, hits), scratch
	}
	delta, class, nc := m.delta, &m.class, uint32(m.nclass)
	mid := n / 2
	j := max(0, mid-int(m.maxKwLen))
	second := scratch[:0]
	stA, stB := uint32(0), uint32(0)
	for i := 0; i < mid; i, j = i+1, j+1 {
		stA = delta[stA+uint32(class[text[i]])]
		stB = delta[stB+uint32(class[text[j]])]
		if (stA|stB)&acHasOut == 0 {
			continue
		}
		if stA&acHasOut != 0 {
			stA &^= acHasOut
			hits = m.appendOuts(hits, stA/nc, i+1)
		}
		if stB&acHasOut != 0 {
			stB &^= acHasOut
			if j+1 > mid {
				second = m.appendOuts(second, stB/nc, j+1)
			}
		}
	}
	second = m.scanFrom(text, j, stB, second)
	return append(hits, second...), second
}

// scanFrom runs the automaton in state st over text[from:].
func (m *acMatcher) scanFrom(text string, from int, st uint32, hits []acHit) []acHit {
	delta, class, nc := m.delta, &m.class, uint32(m.nclass)
	for i := from; i < len(text); i++ {
		st = delta[st+uint32(class[text[i]])]
		if st&acHasOut != 0 {
			st &^= acHasOut
			hits = m.appendOuts(hits, st/nc, i+1)
		}
	}
	return hits
}

func (m *acMatcher) appendOuts(hits []acHit, state uint32, end int) []acHit {
	for _, kw := range m.outs[m.outStart[state]:m.outStart[state+1]] {
		hits = append(hits, acHit{kw: kw, end: int32(end)})
	}
	return hits
}
