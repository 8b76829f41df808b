package main

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"

	"github.com/mcpgate/mcpgate/detectors/classifier"
	"github.com/mcpgate/mcpgate/detectors/classifier/internal/feature"
)

const nh = int(classifier.NumHeads)

var debug = os.Getenv("TRAIN_DEBUG") != ""

// params are the training hyper-parameters; the defaults are what make
// model uses.
type params struct {
	epochs  int
	lr      float64 // AdaGrad step
	l2      float64 // weight decay on touched weights
	posCap  float64 // cap on the positive class weight
	seed    uint64
	targets [3]float64 // benign false-positive rates for low, medium and high
	floors  [3]float64 // minimum probability thresholds for low, medium and high
}

func defaultParams() params {
	return params{epochs: 10, lr: 0.1, l2: 1e-4, posCap: 4, seed: 15,
		targets: [3]float64{0.01, 0.003, 0.001},
		floors:  [3]float64{0.8, 0.95, 0.99}}
}

// labels of a row, one per head: any attack, and exfiltration.
func labels(r *row) [nh]bool { return [nh]bool{r.attack(), r.exfil()} }

// floatModel is the trainer's full-precision model.
type floatModel struct {
	w    [][nh]float32
	bias [nh]float32
}

// train fits both heads by multiple-instance logistic regression: a row's
// score is its highest-scoring window (as at inference), and only that
// window's features are updated. For an attack row this finds the window
// that holds the payload, for a benign row the window most like an attack.
// One goroutine, rows in a seeded order: the same rows give the same bits.
func train(rows []*row, p params) *floatModel {
	m := &floatModel{w: make([][nh]float32, feature.Buckets)}
	g2 := make([][nh]float32, feature.Buckets)
	var pos, neg [nh]float64
	for _, r := range rows {
		for k, y := range labels(r) {
			if y {
				pos[k]++
			} else {
				neg[k]++
			}
		}
	}
	var cw [nh]float64
	for k := range nh {
		cw[k] = 1
		if pos[k] > 0 {
			cw[k] = min(p.posCap, max(1, neg[k]/pos[k]))
		}
	}
	order := make([]int, len(rows))
	for i := range order {
		order[i] = i
	}
	rng := rand.New(rand.NewPCG(p.seed, 0x6d6f64656c))
	var sums [][nh]float32
	lr, l2 := float32(p.lr), float32(p.l2)
	for range p.epochs {
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		for _, i := range order {
			r := rows[i]
			nb := len(r.blocks) - 1
			if nb == 0 {
				continue
			}
			sums = slices.Grow(sums[:0], nb)[:nb]
			for b := range nb {
				var s [nh]float32
				for _, f := range r.feats[r.blocks[b]:r.blocks[b+1]] {
					w := &m.w[f]
					s[0] += w[0]
					s[1] += w[1]
				}
				sums[b] = s
			}
			y := labels(r)
			for k := range nh {
				// Windows as at inference: blocks j-1 and j, or block 0
				// alone in a one-block text; each feature counts
				// 1/sqrt(max(window's feature count, feature.MinCount)).
				bestJ, best := 0, float32(math.Inf(-1))
				for j := min(1, nb-1); j < nb; j++ {
					lo := max(0, j-(feature.WindowBlocks-1))
					n := max(feature.MinCount, r.blocks[j+1]-r.blocks[lo])
					v := sums[j][k]
					if j > 0 {
						v += sums[j-1][k]
					}
					if v *= float32(1 / math.Sqrt(float64(n))); v > best {
						bestJ, best = j, v
					}
				}
				lo := max(0, bestJ-(feature.WindowBlocks-1))
				x := float32(1 / math.Sqrt(float64(max(feature.MinCount, r.blocks[bestJ+1]-r.blocks[lo]))))
				prob := 1 / (1 + math.Exp(-float64(m.bias[k]+best)))
				t, c := 0.0, 1.0
				if y[k] {
					t, c = 1, cw[k]
				}
				g := float32((prob - t) * c)
				m.bias[k] -= lr * g
				g *= x
				for _, f := range r.feats[r.blocks[lo]:r.blocks[bestJ+1]] {
					w, a := &m.w[f][k], &g2[f][k]
					gf := g + l2**w
					*a += gf * gf
					*w -= lr * gf / float32(math.Sqrt(float64(*a)+1e-6))
				}
			}
		}
	}
	return m
}

// quantise turns a float model into the int8 weights file, with
// thresholds th.
func quantise(m *floatModel, th [nh]classifier.Thresholds) ([]byte, error) {
	var scale [nh]float32
	q := make([][nh]int8, len(m.w))
	for k := range nh {
		// Scale to the 99.99th percentile of the non-zero weights: the few
		// larger ones saturate, the many small ones keep their resolution.
		var mags []float32
		for _, w := range m.w {
			if w[k] != 0 {
				mags = append(mags, float32(math.Abs(float64(w[k]))))
			}
		}
		slices.Sort(mags)
		top := float32(1)
		if len(mags) > 0 {
			top = mags[min(len(mags)-1, len(mags)*9999/10000)]
		}
		scale[k] = top / 127
		for i, w := range m.w {
			v := math.Round(float64(w[k] / scale[k]))
			q[i][k] = int8(max(-127, min(127, v)))
		}
	}
	return classifier.Encode(q, m.bias, scale, th)
}

// placeholder thresholds used while a model is only scored, never shipped.
var provisional = [nh]classifier.Thresholds{{Low: 0.8, Medium: 0.95, High: 0.99}, {Low: 0.8, Medium: 0.95, High: 0.99}}

// build trains on rows and returns the inference model (quantised, loaded
// through the package's own decoder, so evaluation runs the shipped code).
func build(rows []*row, p params, th [nh]classifier.Thresholds) (*classifier.Model, []byte, error) {
	b, err := quantise(train(rows, p), th)
	if err != nil {
		return nil, nil, err
	}
	m, err := classifier.Load(b)
	if err != nil {
		return nil, nil, fmt.Errorf("reload: %w", err)
	}
	return m, b, nil
}

// fit is the whole procedure for one training set: train on four fifths,
// set each head's thresholds from the scores of the held-out fifth's benign
// rows (rates p.targets), then train on all rows and keep those thresholds.
func fit(rows []*row, p params) (*classifier.Model, []byte, error) {
	var fit, cal []*row
	for _, r := range rows {
		if holdout(r) {
			cal = append(cal, r)
		} else {
			fit = append(fit, r)
		}
	}
	m, _, err := build(fit, p, provisional)
	if err != nil {
		return nil, nil, err
	}
	var th [nh]classifier.Thresholds
	for k := range nh {
		var probs []float64
		for _, r := range cal {
			if !r.attack() {
				probs = append(probs, m.Score(r.Text).Top[k].Prob)
			}
		}
		th[k] = thresholds(probs, p)
		if debug {
			report(m, cal, k, probs)
		}
	}
	return build(rows, p, th)
}

// thresholds picks, for each level, the lowest probability that at most
// the target share of benign probs reaches, and at least the level's floor.
func thresholds(benign []float64, p params) classifier.Thresholds {
	slices.Sort(benign)
	slices.Reverse(benign)
	var t [3]float64
	for i, rate := range p.targets {
		v := p.floors[i]
		if n := int(rate * float64(len(benign))); n < len(benign) {
			v = max(v, math.Nextafter(benign[n], 1))
		}
		if i > 0 {
			v = max(v, t[i-1])
		}
		t[i] = min(v, 0.999)
	}
	return classifier.Thresholds{Low: t[0], Medium: t[1], High: t[2]}
}

// report prints, for tuning (TRAIN_DEBUG=1), the recall of head k on the
// calibration rows at fixed benign false-positive rates; benign is sorted
// descending.
func report(m *classifier.Model, cal []*row, k int, benign []float64) {
	var att []float64
	for _, r := range cal {
		if labels(r)[k] {
			att = append(att, m.Score(r.Text).Top[k].Prob)
		}
	}
	fmt.Fprintf(os.Stderr, "head %d: %d attacks, %d benign;", k, len(att), len(benign))
	for _, rate := range []float64{0.001, 0.003, 0.01, 0.03} {
		th := math.Nextafter(benign[int(rate*float64(len(benign)))], 1)
		n := 0
		for _, a := range att {
			if a >= th {
				n++
			}
		}
		fmt.Fprintf(os.Stderr, " recall@FPR%.1f%% %.1f%% (p≥%.3f)", 100*rate, 100*float64(n)/float64(len(att)), th)
	}
	fmt.Fprintln(os.Stderr)
}
