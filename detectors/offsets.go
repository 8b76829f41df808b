package detectors

import "sort"

// offsetMap maps byte offsets in the normalised text back to the original.
// Most of any text keeps its length when folded (ASCII, CJK, lower-casing),
// so it stores a checkpoint only where the two texts stop advancing
// together: after dropped invisible runes and at runes whose folded form has
// another length. Lookups binary-search, but happen only for findings.
type offsetMap struct {
	cps []checkpoint
}

// checkpoint: from normalised offset n on, bytes map one to one onto the
// original from o; an atomic checkpoint is one rune whose folded bytes all
// map to the original rune [o, oEnd).
type checkpoint struct {
	n, o, oEnd int32
	atomic     bool
}

func (m *offsetMap) reset() { m.cps = m.cps[:0] }

// same records that normalised bytes from n on copy original bytes from o.
func (m *offsetMap) same(n, o int) {
	if k := len(m.cps); k > 0 {
		last := m.cps[k-1]
		if !last.atomic && int(last.o)+(n-int(last.n)) == o {
			return // continues the current one-to-one stretch
		}
	}
	m.cps = append(m.cps, checkpoint{n: int32(n), o: int32(o)})
}

// rune records that normalised bytes from n on came from the rune [o, oEnd).
func (m *offsetMap) rune(n, o, oEnd int) {
	m.cps = append(m.cps, checkpoint{n: int32(n), o: int32(o), oEnd: int32(oEnd), atomic: true})
}

func (m *offsetMap) find(n int) checkpoint {
	k := sort.Search(len(m.cps), func(i int) bool { return int(m.cps[i].n) > n }) - 1
	return m.cps[max(k, 0)]
}

// start returns the original offset where normalised byte n's rune starts.
func (m *offsetMap) start(n int) int {
	cp := m.find(n)
	if cp.atomic {
		return int(cp.o)
	}
	return int(cp.o) + n - int(cp.n)
}

// end returns the original offset just after normalised byte n's rune.
func (m *offsetMap) end(n int) int {
	cp := m.find(n)
	if cp.atomic {
		return int(cp.oEnd)
	}
	return int(cp.o) + n - int(cp.n) + 1
}
