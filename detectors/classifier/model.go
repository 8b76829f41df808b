package classifier

import (
	_ "embed"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"sync"

	"github.com/mcpgate/mcpgate/detectors/classifier/internal/feature"
)

// Head is one output of the model.
type Head int

// Heads. Attack is the probability that a window addresses the model with
// instructions it was not given by its user (injection, jailbreak, tool
// poisoning, exfiltration alike); Exfiltration is the probability that the
// window tries to move data out (system prompt, conversation, files,
// credentials).
const (
	Attack Head = iota
	Exfiltration
	NumHeads
)

// String names the head as the weights file does.
func (h Head) String() string {
	switch h {
	case Attack:
		return "attack"
	case Exfiltration:
		return "exfiltration"
	}
	return fmt.Sprintf("head(%d)", int(h))
}

// Thresholds are window probabilities at which a head's finding becomes
// low, medium or high severity (below Low the model reports nothing). They are calibrated by the trainer on
// held-out folds of its training data (see MODEL.md).
type Thresholds struct {
	Low, Medium, High float64
}

// Model is a linear classifier over hashed n-grams, scored per window. It
// is immutable and safe for concurrent use.
type Model struct {
	// w packs both heads' int8 weights of one bucket into one load: head 0
	// in the low byte, head 1 in the high byte.
	w      *[feature.Buckets]uint16
	bias   [NumHeads]float32
	scale  [NumHeads]float32
	thresh [NumHeads]Thresholds
}

const magic = "MCPGCLS\x01"

// header size: magic, bits, heads, block size, window blocks, pad, then per
// head bias, scale and three thresholds as float32.
const headerLen = 8 + 8 + int(NumHeads)*5*4

// Load decodes a weights file as written by the trainer.
func Load(b []byte) (*Model, error) {
	want := headerLen + feature.Buckets*2
	if len(b) != want {
		return nil, fmt.Errorf("classifier: weights are %d bytes, want %d", len(b), want)
	}
	if string(b[:8]) != magic {
		return nil, errors.New("classifier: not a weights file (bad magic)")
	}
	h := b[8:16]
	if h[0] != feature.Bits || h[1] != byte(NumHeads) ||
		binary.LittleEndian.Uint16(h[2:]) != feature.BlockSize || h[4] != feature.WindowBlocks {
		return nil, fmt.Errorf("classifier: weights built for another feature space (bits %d, heads %d, block %d, window %d)",
			h[0], h[1], binary.LittleEndian.Uint16(h[2:]), h[4])
	}
	m := &Model{w: new([feature.Buckets]uint16)}
	off := 16
	f32 := func() float32 {
		v := math.Float32frombits(binary.LittleEndian.Uint32(b[off:]))
		off += 4
		return v
	}
	for k := range NumHeads {
		m.bias[k], m.scale[k] = f32(), f32()
		m.thresh[k] = Thresholds{Low: float64(f32()), Medium: float64(f32()), High: float64(f32())}
		t := m.thresh[k]
		if !(0 < t.Low && t.Low <= t.Medium && t.Medium <= t.High && t.High < 1) {
			return nil, fmt.Errorf("classifier: head %v thresholds %+v not increasing in (0,1)", k, t)
		}
	}
	for i := range m.w {
		m.w[i] = binary.LittleEndian.Uint16(b[off+2*i:])
	}
	return m, nil
}

// Encode is the inverse of Load, given float parameters already quantised:
// w holds, per bucket, one int8 weight per head.
func Encode(w [][NumHeads]int8, bias, scale [NumHeads]float32, th [NumHeads]Thresholds) ([]byte, error) {
	if len(w) != feature.Buckets {
		return nil, fmt.Errorf("classifier: %d weights, want %d", len(w), feature.Buckets)
	}
	b := make([]byte, 0, headerLen+2*len(w))
	b = append(b, magic...)
	b = append(b, feature.Bits, byte(NumHeads))
	b = binary.LittleEndian.AppendUint16(b, feature.BlockSize)
	b = append(b, feature.WindowBlocks, 0, 0, 0)
	for k := range NumHeads {
		for _, v := range []float32{bias[k], scale[k], float32(th[k].Low), float32(th[k].Medium), float32(th[k].High)} {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
		}
	}
	for _, p := range w {
		b = append(b, byte(p[0]), byte(p[1]))
	}
	return b, nil
}

//go:embed weights.bin
var embedded []byte

// Default returns the embedded model, decoded once.
var Default = sync.OnceValues(func() (*Model, error) { return Load(embedded) })

// Thresholds returns the calibrated thresholds of head h.
func (m *Model) Thresholds(h Head) Thresholds { return m.thresh[h] }

// Weight returns the dequantised weight of bucket b for head h.
func (m *Model) Weight(h Head, b uint32) float32 {
	v := m.w[b&(feature.Buckets-1)]
	return float32(int8(v>>(8*uint(h)))) * m.scale[h]
}

// Window is the highest-scoring window of a text for one head.
type Window struct {
	Start, End int // byte offsets into the scored text
	Prob       float64
}

// Result is the score of a text: per head, the window with the highest
// probability (the zero Window for empty text).
type Result struct {
	Top [NumHeads]Window
}

// Score rates every window of text (WindowBlocks blocks of BlockSize
// bytes, overlapping by one block; a text shorter than a block is one
// window) and returns the top window per head. It allocates nothing and
// reads each byte once.
func (m *Model) Score(text string) Result {
	var res Result
	if len(text) == 0 {
		return res
	}
	w := m.w
	x := uint64(feature.Init)
	last := byte(' ')
	wh, prev := uint64(feature.FNVOffset), uint64(feature.FNVOffset)
	inWord := false
	var best0, best1 float32
	var bestBlk0, bestBlk1 int
	var p0, p1, pn int32 // previous block's sums and feature count
	nb := (len(text) + feature.BlockSize - 1) / feature.BlockSize
	for blk := range nb {
		lo := blk * feature.BlockSize
		hi := min(lo+feature.BlockSize, len(text))
		var s0, s1, n int32
		for _, ch := range []byte(text[lo:hi]) {
			c := feature.Norm[ch]
			if c == ' ' && last == ' ' {
				continue
			}
			last = c
			x = x<<8 | uint64(c)
			if feature.IsWord[c] {
				inWord = true
				wh = (wh ^ uint64(c)) * feature.FNVPrime
			} else if inWord {
				u, bi := feature.Word(prev, wh)
				v, v2 := w[u&(feature.Buckets-1)], w[bi&(feature.Buckets-1)]
				s0 += int32(int8(v)) + int32(int8(v2))
				s1 += int32(int8(v>>8)) + int32(int8(v2>>8))
				prev, wh, inWord = wh, feature.FNVOffset, false
				n += 2
			}
			n++
			v := w[feature.Gram(x)&(feature.Buckets-1)]
			s0 += int32(int8(v))
			s1 += int32(int8(v >> 8))
		}
		if hi == len(text) && inWord {
			u, bi := feature.Word(prev, wh)
			v, v2 := w[u&(feature.Buckets-1)], w[bi&(feature.Buckets-1)]
			s0 += int32(int8(v)) + int32(int8(v2))
			s1 += int32(int8(v>>8)) + int32(int8(v2>>8))
			n += 2
		}
		// The window ending with this block: it and the one before
		// (WindowBlocks is 2, which Load checks).
		ws0, ws1, wn := s0, s1, n
		if blk > 0 {
			ws0, ws1, wn = p0+s0, p1+s1, pn+n
		}
		// Features count 1/sqrt(n) each, n the window's feature count
		// (at least feature.MinCount).
		norm := 1 / float32(math.Sqrt(float64(max(wn, feature.MinCount))))
		w0, w1 := float32(ws0)*norm, float32(ws1)*norm
		// A window is two blocks; only a text of one block has a shorter one.
		if first := min(1, nb-1); blk == first {
			best0, bestBlk0, best1, bestBlk1 = w0, blk, w1, blk
		} else if blk > first {
			if w0 > best0 {
				best0, bestBlk0 = w0, blk
			}
			if w1 > best1 {
				best1, bestBlk1 = w1, blk
			}
		}
		p0, p1, pn = s0, s1, n
	}
	best := [NumHeads]float32{best0, best1}
	for k, blk := range [NumHeads]int{bestBlk0, bestBlk1} {
		lo := max(0, blk-(feature.WindowBlocks-1)) * feature.BlockSize
		hi := min((blk+1)*feature.BlockSize, len(text))
		logit := float64(m.bias[k]) + float64(m.scale[k])*float64(best[k])
		res.Top[k] = Window{Start: lo, End: hi, Prob: sigmoid(logit)}
	}
	return res
}

func sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }
