package detectors

import (
	"cmp"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"
)

// Options configures a Scanner. The zero value enables every rule and
// reports every severity.
type Options struct {
	// MinSeverity drops findings below it (0 keeps all).
	MinSeverity Severity
	// DisabledRules lists rule ids (see Scanner.Rules) never to report.
	// An unknown id is an error, so a typo cannot silently keep a rule on.
	DisabledRules []string
	// PIISeverity is the severity of pii.* findings; 0 means Medium.
	PIISeverity Severity
	// Model configures the learned classifier (model.go); off by default.
	Model ModelOptions
}

// Scanner finds threats in text. It is immutable after New and safe for
// concurrent use.
type Scanner struct {
	sev     []Severity // effective severity per rule index
	enabled []bool
	minSev  Severity
	byID    map[string]int
	ids     ruleIDs

	ac *acMatcher
	// kwTrig maps a keyword to the triggers it plays a role for: opening
	// a window, or being a companion (phraseSpec.near, phraseSpec.also).
	kwTrig   [][]kwRole
	triggers []trigger

	model *modelHook // nil unless Options.Model.Enabled

	// runs recycles per-scan scratch state so a clean scan allocates
	// nothing. A sync.Pool is safe for concurrent use.
	runs sync.Pool
}

// trigger is one compiled regexp, run on a window around a keyword hit.
type trigger struct {
	rule          int
	re            *regexp.Regexp
	before, after int
	// onOrig: run on the original text (case matters, e.g. secrets) instead
	// of the normalised text.
	onOrig bool
	// check, when set, must accept the match (the secret for onOrig
	// triggers, the normalised match otherwise).
	check func(string) bool
	// checkOrig: check gets the original text of the match (case kept).
	checkOrig bool
	keep      int // secrets: bytes of known prefix shown in the excerpt
	find      func(text string, lo, hi int, spans [][2]int) [][2]int
	toolOnly  bool
	// needNear: a companion keyword must precede the hit within before.
	needNear bool
	// needAlso: a companion keyword must occur somewhere in the window.
	needAlso bool
	// phrase: a language-bearing injection/exfiltration/poisoning phrase,
	// the kind a homoglyph spelling tries to hide.
	phrase bool
}

// kwRole is what a keyword hit means for one trigger.
type kwRole struct {
	trig int32
	role uint8
}

const (
	roleOpen uint8 = iota // opens (or extends) the trigger's window
	roleNear              // companion that must precede the opening hit
	roleAlso              // companion that must fall inside the window
)

// New compiles all rules. It fails on an unknown disabled rule id or an
// invalid severity.
func New(opts Options) (*Scanner, error) {
	if opts.PIISeverity == 0 {
		opts.PIISeverity = Medium
	}
	if opts.PIISeverity < Low || opts.PIISeverity > High {
		return nil, fmt.Errorf("detectors: invalid PIISeverity %d", int(opts.PIISeverity))
	}
	if opts.MinSeverity < 0 || opts.MinSeverity > High {
		return nil, fmt.Errorf("detectors: invalid MinSeverity %d", int(opts.MinSeverity))
	}
	s := &Scanner{
		sev:     make([]Severity, len(ruleTable)),
		enabled: make([]bool, len(ruleTable)),
		minSev:  opts.MinSeverity,
		byID:    make(map[string]int, len(ruleTable)),
	}
	for i, r := range ruleTable {
		if _, dup := s.byID[r.id]; dup {
			return nil, fmt.Errorf("detectors: duplicate rule id %q", r.id)
		}
		s.byID[r.id] = i
		s.sev[i] = r.severity
		if r.severity == 0 {
			s.sev[i] = opts.PIISeverity
		}
		s.enabled[i] = true
	}
	for _, id := range opts.DisabledRules {
		i, ok := s.byID[id]
		if !ok {
			return nil, fmt.Errorf("detectors: unknown rule %q in DisabledRules", id)
		}
		s.enabled[i] = false
	}
	if err := s.resolveIDs(); err != nil {
		return nil, err
	}
	if err := s.compile(); err != nil {
		return nil, err
	}
	var err error
	if s.model, err = newModelHook(opts.Model, s); err != nil {
		return nil, err
	}
	s.runs.New = func() any { return &scanRun{s: s} }
	return s, nil
}

func (s *Scanner) resolveIDs() error {
	var err error
	get := func(id string) int {
		i, ok := s.byID[id]
		if !ok && err == nil {
			err = fmt.Errorf("detectors: internal rule %q missing from ruleTable", id)
		}
		return i
	}
	s.ids = ruleIDs{
		email: get("pii.email"), phone: get("pii.phone"), card: get("pii.payment_card"),
		iban: get("pii.iban"), ssn: get("pii.us_ssn"),
		tagChars: get("obfuscation.tag_chars"), zeroWidth: get("obfuscation.zero_width"),
		bidi: get("obfuscation.bidi"), ansi: get("obfuscation.ansi_escape"),
		encoded: get("obfuscation.encoded_instructions"), homoglyph: get("obfuscation.homoglyph"),
		twilio: get("secret.twilio"), varSel: get("obfuscation.variation_selectors"), hiddenText: get("obfuscation.hidden_text"),
		addressedAction: get("injection.addressed_action"),
	}
	return err
}

// compile turns the phrase tables and secret specs into triggers and one
// keyword automaton.
func (s *Scanner) compile() error {
	var keywords []string
	kwIndex := map[string]int32{}
	addKeyword := func(k string, trig int32, role uint8) {
		i, ok := kwIndex[k]
		if !ok {
			i = int32(len(keywords))
			kwIndex[k] = i
			keywords = append(keywords, k)
			s.kwTrig = append(s.kwTrig, nil)
		}
		s.kwTrig[i] = append(s.kwTrig[i], kwRole{trig: trig, role: role})
	}
	for _, group := range [][]phraseSpec{injectionPhrases, structuralPhrases} {
		for _, p := range group {
			ri, ok := s.byID[p.rule]
			if !ok {
				return fmt.Errorf("detectors: phrase table names unknown rule %q", p.rule)
			}
			if len(p.keywords) == 0 || len(p.patterns) == 0 {
				return fmt.Errorf("detectors: phrase spec %s/%s needs keywords and patterns", p.rule, p.lang)
			}
			// One regexp per spec: a keyword hit then costs one pass over
			// its window, not one per pattern.
			parts := make([]string, len(p.patterns))
			for i, pat := range p.patterns {
				parts[i] = "(?:" + normalisePhrase(pat) + ")"
			}
			re, err := regexp.Compile(strings.Join(parts, "|"))
			if err != nil {
				return fmt.Errorf("detectors: rule %s/%s: %w", p.rule, p.lang, err)
			}
			if re.NumSubexp() > 1 || (re.NumSubexp() == 1 && len(p.patterns) > 1) {
				return fmt.Errorf("detectors: rule %s/%s: a capture group is only allowed in a single-pattern spec", p.rule, p.lang)
			}
			cat := ruleTable[ri].category
			before, after := phraseBefore, phraseAfter
			if p.before > 0 {
				before = p.before
			}
			if p.after > 0 {
				after = p.after
			}
			t := trigger{rule: ri, re: re, before: before, after: after, check: p.check, needNear: len(p.near) > 0, needAlso: len(p.also) > 0, checkOrig: p.checkOrig,
				toolOnly: ruleTable[ri].toolOnly,
				phrase:   cat == Injection || cat == Exfiltration || cat == Poisoning}
			ti := int32(len(s.triggers))
			s.triggers = append(s.triggers, t)
			for _, k := range p.keywords {
				addKeyword(strings.ToLower(normalisePhrase(k)), ti, roleOpen)
			}
			for _, k := range p.near {
				addKeyword(strings.ToLower(normalisePhrase(k)), ti, roleNear)
			}
			for _, k := range p.also {
				addKeyword(strings.ToLower(normalisePhrase(k)), ti, roleAlso)
			}
		}
	}
	for _, o := range origSpecs {
		ri, ok := s.byID[o.rule]
		if !ok {
			return fmt.Errorf("detectors: secret spec names unknown rule %q", o.rule)
		}
		var re *regexp.Regexp
		if o.find == nil {
			var err error
			if re, err = regexp.Compile(o.pattern); err != nil {
				return fmt.Errorf("detectors: rule %s: %w", o.rule, err)
			}
		}
		ti := int32(len(s.triggers))
		s.triggers = append(s.triggers, trigger{rule: ri, re: re, before: o.before, after: o.after,
			onOrig: true, check: o.check, keep: o.keep, find: o.find})
		for _, k := range o.keywords {
			addKeyword(strings.ToLower(k), ti, roleOpen)
		}
	}
	s.ac = newACMatcher(keywords)
	return nil
}

// Rules returns every rule id the scanner can report, sorted.
func (s *Scanner) Rules() []string {
	ids := make([]string, len(ruleTable))
	for i, r := range ruleTable {
		ids[i] = r.id
	}
	sort.Strings(ids)
	return ids
}

// Scan returns the findings in text, ordered by Start then Rule, or nil for
// clean text. Offsets are byte offsets into text.
func (s *Scanner) Scan(text string) []Finding {
	return s.scan(text, 0, false, false)
}

// maxDepth bounds decoding: hidden text (tag characters, base64, hex) is
// scanned once more, but what it decodes to is not decoded again.
const maxDepth = 1

// scan runs one text. raw skips severity and disabled-rule filtering; the
// nested scans of decoded text use it so the outer scan decides.
func (s *Scanner) scan(text string, depth int, tool, raw bool) []Finding {
	r := s.runs.Get().(*scanRun)
	r.reset(text, depth, tool)
	r.run()
	out := r.result(raw)
	if s.model != nil && depth == 0 && !raw {
		out = s.model.findings(s, text, tool, r.maskedSpans(), out)
	}
	r.release()
	s.runs.Put(r)
	return out
}

func compareFindings(a, b Finding) int {
	if c := cmp.Compare(a.Start, b.Start); c != 0 {
		return c
	}
	if c := strings.Compare(a.Rule, b.Rule); c != 0 {
		return c
	}
	return cmp.Compare(a.End, b.End)
}
