// Package feature owns the classifier's feature space: byte normalisation,
// the hashed word uni/bi-grams and character 3-5-grams, and the block layout
// of scoring windows. The trainer and the embedded model both use it, so a
// weight learned for a bucket means the same thing at inference.
//
// Each is the reference extractor: simple, one callback per feature. The
// classifier's hot loop re-implements the same steps without callbacks; a
// test there asserts both give identical sums.
package feature

// Bits is log2 of the number of hash buckets.
const Bits = 18

// Buckets is the number of hash buckets (weights per head).
const Buckets = 1 << Bits

// BlockSize is the granularity of scoring: a feature belongs to the block
// that holds the byte where it ends, and a window is WindowBlocks
// consecutive blocks (so windows overlap by one block).
const (
	BlockSize    = 128
	WindowBlocks = 2
)

// MinCount is the least feature count a window's sum is divided by (as
// its square root): a window's score is Σw/sqrt(max(n, MinCount)), so a
// long window's score does not grow with its length, and a short text's few
// features are not blown up to the weight of a whole paragraph.
const MinCount = 200

// Norm maps a byte of input to its normalised form: ASCII letters are
// lower-cased, every ASCII control and whitespace byte becomes a space,
// everything else (punctuation, digits, UTF-8 bytes of other scripts) is
// kept. Runs of spaces are collapsed by the extractors, not here.
var Norm = func() (t [256]byte) {
	for i := range t {
		c := byte(i)
		switch {
		case c >= 'A' && c <= 'Z':
			c += 'a' - 'A'
		case c < 0x20 || c == 0x7f:
			c = ' '
		}
		t[i] = c
	}
	return t
}()

// IsWord marks normalised bytes that belong to a word: ASCII letters and
// digits, and every non-ASCII byte (so words in other scripts stay whole).
var IsWord = func() (t [256]bool) {
	for i := range t {
		c := byte(i)
		t[i] = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c >= 0x80
	}
	return t
}()

// Hash constants. The n-gram order and the word/bigram kind are mixed into
// the hashed value so that features of different kinds rarely share a
// bucket by construction.
const (
	mul       = 0x9E3779B97F4A7C15
	fnvOffset = 0xcbf29ce484222325
	fnvPrime  = 0x100000001b3
	tag3      = 3 << 56
	tag4      = 4 << 56
	tag5      = 5 << 56
	tagWord   = 0x5157_0000_0000_0000
	tagBigram = 0x3a9d_0000_0000_0000
	mask3     = 0xFFFFFF
	mask4     = 0xFFFFFFFF
	mask5     = 0xFFFFFFFFFF
	// initGram is five spaces: the text is as if it followed white space,
	// so the first n-grams look like those after any word boundary.
	initGram = 0x2020202020
)

// Bucket maps a 64-bit feature value to a bucket.
func Bucket(v uint64) uint32 { return uint32((v * mul) >> (64 - Bits)) }

// Gram returns the bucket of the character n-gram (n = GramLen) ending in
// the last byte of x, which holds the last normalised bytes, newest lowest.
func Gram(x uint64) uint32 { return Bucket(x&gramMask | gramTag) }

// Word returns the buckets of a word (its FNV-1a hash wh) and of the bigram
// (previous word prev, this word).
func Word(prev, wh uint64) (uni, bi uint32) {
	return Bucket(wh ^ tagWord), Bucket((prev*fnvPrime ^ wh) ^ tagBigram)
}

// Kind says what a feature is, for explanations.
type Kind uint8

// Feature kinds.
const (
	Char Kind = iota // character n-gram
	Unigram
	Bigram
)

// Feat is one feature occurrence: its bucket, the byte span of the
// original text it covers (End exclusive) and At, the byte being read when
// it was complete: the feature belongs to block At/BlockSize.
type Feat struct {
	Bucket         uint32
	Start, End, At int
	Kind           Kind
}

// Init is the starting state of the n-gram register, exported for the
// classifier's hot loop.
const Init = initGram

// FNVOffset and FNVPrime are the word hash parameters, exported for the
// classifier's hot loop.
const (
	FNVOffset = fnvOffset
	FNVPrime  = fnvPrime
)

// Each calls emit for every feature of text, in order of End. It is the
// reference definition of the feature space.
func Each(text string, emit func(Feat)) {
	x := uint64(initGram)
	last := byte(' ')
	// starts of the last five normalised bytes, newest at index 0, for spans
	var pos [5]int
	wh, prev := uint64(fnvOffset), uint64(fnvOffset)
	inWord, wordStart, prevStart := false, 0, 0
	endWord := func(end, at int) {
		uni, bi := Word(prev, wh)
		emit(Feat{Bucket: uni, Start: wordStart, End: end, At: at, Kind: Unigram})
		emit(Feat{Bucket: bi, Start: prevStart, End: end, At: at, Kind: Bigram})
		prev, prevStart = wh, wordStart
		wh, inWord = fnvOffset, false
	}
	for i := 0; i < len(text); i++ {
		c := Norm[text[i]]
		if c == ' ' && last == ' ' {
			continue
		}
		last = c
		x = x<<8 | uint64(c)
		copy(pos[1:], pos[:4])
		pos[0] = i
		if IsWord[c] {
			if !inWord {
				inWord, wordStart = true, i
			}
			wh = (wh ^ uint64(c)) * fnvPrime
		} else if inWord {
			endWord(i, i)
		}
		emit(Feat{Bucket: Gram(x), Start: pos[GramLen-1], End: i + 1, At: i, Kind: Char})
	}
	if inWord {
		endWord(len(text), len(text)-1)
	}
}

// GramLen is the length of the character n-grams, in normalised bytes.
const GramLen = 4

const (
	gramMask = mask4
	gramTag  = tag4
)
