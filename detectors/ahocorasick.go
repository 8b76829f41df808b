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

// scan calls hit(keyword, end) for every keyword occurrence in text, in
// order of end offset. It does not allocate.
func (m *acMatcher) scan(text string, hit func(kw int32, end int)) {
	delta, class, nc := m.delta, &m.class, uint32(m.nclass)
	st := uint32(0)
	for i := 0; i < len(text); i++ {
		st = delta[st+uint32(class[text[i]])]
		if st&acHasOut != 0 {
			st &^= acHasOut
			s := st / nc
			for _, kw := range m.outs[m.outStart[s]:m.outStart[s+1]] {
				hit(kw, i+1)
			}
		}
	}
}
