package main

import (
	"github.com/mcpgate/mcpgate/internal/corpusdir"

	"os"
	"testing"

	"github.com/mcpgate/mcpgate/detectors/classifier"
)

// Floors below the figures of MODEL.md (make model-eval), with a margin
// for the noise of a few hundred rows; the test fails if a change to the
// features, the trainer or the data takes the model below them. Recall
// counts rows at low or above (the model's ranking), false positives rows
// at medium or above (what active mode withholds).
const (
	// CyberSecEval (English and 17 languages) left out of training: the
	// model barely generalises to its direct, chat-style injections.
	floorCSERecall = 0.015
	// OWASP's prose about prompt injection left out of training.
	ceilOWASPFPR = 0.16
	// Tensor Trust and WASP are never trained on (licence).
	floorTensorTrust = 0.42
	floorWASP        = 0.05
)

func corpusRows(t *testing.T) []*row {
	t.Helper()
	if testing.Short() {
		t.Skip("trains models: not in -short")
	}
	corpus, err := corpusdir.Find()
	if err != nil {
		t.Skipf("%v: the evaluation floors need the shared corpus", err)
	}
	rows, err := load(corpus, "cases.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	rows = append(append(rows, snippets(rows)...), phraseLists(rows)...)
	for _, r := range rows {
		featurize(r)
	}
	return rows
}

func rate(m *classifier.Model, rows []*row, keep func(*row) bool, atLeast int) (float64, int) {
	n, hit := 0, 0
	for _, r := range rows {
		if r.aug || !keep(r) {
			continue
		}
		n++
		if level(m, r.Text) >= atLeast {
			hit++
		}
	}
	if n == 0 {
		return 0, 0
	}
	return float64(hit) / float64(n), n
}

// TestEvalFloors runs two leave-out folds of the shipped recipe, one
// without CyberSecEval (an attack source in 18 languages) and one without
// OWASP (the hardest benign source: prose about prompt injection), and
// checks recall and false positives on what each did not see, and the
// recall of the second on the licence-excluded sources no shipped model
// trains on.
func TestEvalFloors(t *testing.T) {
	if os.Getenv("MCPGATE_MODEL_EVAL") == "" {
		t.Skip("set MCPGATE_MODEL_EVAL=1 to train and check the evaluation floors (make test does, without -race; under a minute)")
	}
	rows := corpusRows(t)
	cse := func(r *row) bool { return r.group() == "cyberseceval" }
	owasp := func(r *row) bool { return r.group() == "owasp-llm-top10" }
	without := func(out func(*row) bool) *classifier.Model {
		var train []*row
		for _, r := range rows {
			if shippable(licenceOf(r)) && !out(r) {
				train = append(train, r)
			}
		}
		m, _, err := fit(train, defaultParams())
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	noCSE, noOWASP := without(cse), without(owasp)
	for _, c := range []struct {
		name  string
		m     *classifier.Model
		keep  func(*row) bool
		bound float64
		fpr   bool
	}{
		{"cyberseceval recall ≥low", noCSE, cse, floorCSERecall, false},
		{"owasp false positives ≥medium", noOWASP, owasp, ceilOWASPFPR, true},
		{"tensor-trust recall ≥low", noOWASP, func(r *row) bool { return r.group() == "tensor-trust" }, floorTensorTrust, false},
		{"wasp recall ≥low", noOWASP, func(r *row) bool { return r.group() == "wasp" }, floorWASP, false},
	} {
		atLeast := 1
		if c.fpr {
			atLeast = 2
		}
		got, n := rate(c.m, rows, c.keep, atLeast)
		t.Logf("%s: %.1f%% of %d (bound %.0f%%)", c.name, 100*got, n, 100*c.bound)
		if n == 0 || (c.fpr && got > c.bound) || (!c.fpr && got < c.bound) {
			t.Errorf("%s: %.1f%% of %d rows, bound %.0f%%", c.name, 100*got, n, 100*c.bound)
		}
	}
}
