package detectors

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/mcpgate/mcpgate/detectors/classifier"
)

// This file owns the hook from the scanner to the learned classifier
// (package classifier): options, the three model rules, and turning the
// top-scoring window of a text into a Finding.

// ModelOptions configures the learned classifier. The zero value leaves it
// off: measured on sources it never saw (classifier/MODEL.md) it withholds
// far more benign text than the rules do, so it runs only where an operator
// asks for it.
type ModelOptions struct {
	// Enabled runs the embedded model, with its calibrated thresholds
	// unless Low, Medium or High say otherwise.
	Enabled bool
	// Low, Medium and High are attack-window probabilities in (0,1) at
	// which a model finding gets that severity (the model reports nothing
	// below Low); 0 keeps the calibrated value (classifier/MODEL.md). They
	// must not decrease.
	Low, Medium, High float64
}

// Rule ids of model findings: the category follows the exfiltration head
// and, in tool definitions, becomes poisoning.
const (
	ruleModelInjection    = "injection.model"
	ruleModelExfiltration = "exfiltration.model"
	ruleModelPoisoning    = "poisoning.model"
)

// maxModelGrams is how many n-grams a finding's Detail names.
const maxModelGrams = 4

// modelHook is the scanner's classifier with resolved thresholds and
// rule indexes.
type modelHook struct {
	m                   *classifier.Model
	th                  classifier.Thresholds
	exfilTh             float64
	inj, exf, poison    int
	injOn, exfOn, poiOn bool
}

func newModelHook(opts ModelOptions, s *Scanner) (*modelHook, error) {
	if !opts.Enabled {
		return nil, nil
	}
	m, err := classifier.Default()
	if err != nil {
		return nil, fmt.Errorf("detectors: %w", err)
	}
	th := m.Thresholds(classifier.Attack)
	for _, o := range []struct {
		v   float64
		dst *float64
	}{{opts.Low, &th.Low}, {opts.Medium, &th.Medium}, {opts.High, &th.High}} {
		if o.v < 0 || o.v >= 1 {
			return nil, fmt.Errorf("detectors: model threshold %v: want a probability in (0,1)", o.v)
		}
		if o.v > 0 {
			*o.dst = o.v
		}
	}
	if th.Low > th.Medium || th.Medium > th.High {
		return nil, fmt.Errorf("detectors: model thresholds low %v, medium %v, high %v must not decrease", th.Low, th.Medium, th.High)
	}
	h := &modelHook{m: m, th: th, exfilTh: m.Thresholds(classifier.Exfiltration).Low,
		inj: s.byID[ruleModelInjection], exf: s.byID[ruleModelExfiltration], poison: s.byID[ruleModelPoisoning]}
	h.injOn, h.exfOn, h.poiOn = s.enabled[h.inj], s.enabled[h.exf], s.enabled[h.poison]
	return h, nil
}

func (h *modelHook) severity(p float64) Severity {
	switch {
	case p >= h.th.High:
		return High
	case p >= h.th.Medium:
		return Medium
	case p >= h.th.Low:
		return Low
	}
	return 0
}

// findings appends the model's finding for text, if its top attack window
// reaches the low threshold and the rule and MinSeverity let it through.
// masked are spans of secrets and personal data no excerpt may show.
func (h *modelHook) findings(s *Scanner, text string, tool bool, masked [][2]int, out []Finding) []Finding {
	res := h.m.Score(text)
	top := res.Top[classifier.Attack]
	sev := h.severity(top.Prob)
	if sev == 0 || sev < s.minSev || covered(out, top.Start, top.End, sev) {
		return out
	}
	rule, on := h.inj, h.injOn
	switch {
	case tool:
		rule, on = h.poison, h.poiOn
	case res.Top[classifier.Exfiltration].Prob >= h.exfilTh:
		rule, on = h.exf, h.exfOn
	}
	if !on {
		return out
	}
	// Blocks are cut by bytes; the finding's span starts and ends on rune
	// boundaries.
	for top.Start < top.End && !utf8.RuneStart(text[top.Start]) {
		top.Start++
	}
	for top.End < len(text) && top.End > top.Start && !utf8.RuneStart(text[top.End]) {
		top.End--
	}
	// Words inside a secret or personal datum never go into Detail.
	grams := slices.DeleteFunc(h.m.Explain(text, top, classifier.Attack, 2*maxModelGrams), func(g classifier.Gram) bool {
		for _, m := range masked {
			if g.Start < m[1] && m[0] < g.End {
				return true
			}
		}
		return false
	})
	grams = grams[:min(len(grams), maxModelGrams)]
	// The excerpt starts at the heaviest n-gram, which is where the
	// window reads most like an attack, not at the block edge.
	from := top.Start
	if len(grams) > 0 {
		from = grams[0].Start
	}
	ex, ok := maskedExcerpt(text, from, top.End, masked)
	if !ok {
		ex = excerpt(text[from:top.End])
	}
	var d strings.Builder
	d.WriteString("p=")
	d.WriteString(strconv.FormatFloat(top.Prob, 'f', 3, 64))
	for i, g := range grams {
		if i == 0 {
			d.WriteString("; ")
		} else {
			d.WriteString(", ")
		}
		d.WriteString(strconv.Quote(g.Text))
	}
	info := &ruleTable[rule]
	out = append(out, Finding{Rule: info.id, Category: info.category, Severity: sev,
		Start: top.Start, End: top.End, Excerpt: ex, Evidence: EvidenceHash(text[top.Start:top.End]),
		Detail: excerptN(d.String(), maxDetail)})
	slices.SortFunc(out, compareFindings)
	return out
}

// covered reports whether a rule already found an attack of at least sev
// in [start,end): the model is there for what the rules cannot enumerate,
// and a second finding on the same text would only need a second
// suppression.
func covered(fs []Finding, start, end int, sev Severity) bool {
	for _, f := range fs {
		switch f.Category {
		case Injection, Exfiltration, Poisoning, Obfuscation:
			if f.Severity >= sev && f.Start < end && start < f.End {
				return true
			}
		}
	}
	return false
}

// maxDetail bounds Finding.Detail: the n-grams come from the scanned
// text, so they are escaped and cut like an excerpt.
const maxDetail = 120

// maskedSpans are the secret and personal-data spans of the last result,
// which it computed before filtering (see result).
func (r *scanRun) maskedSpans() [][2]int {
	if len(r.findings) == 0 {
		return nil
	}
	return r.masked
}
