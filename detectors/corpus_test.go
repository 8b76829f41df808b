package detectors

import (
	"bufio"
	"encoding/json"
	"hash/fnv"
	"os"
	"path/filepath"
	"sort"
	"testing"
)

// corpusDir is the shared labelled corpus, relative to this package.
const corpusDir = "../../shared/corpus"

type corpusRow struct {
	ID       string `json:"id"`
	Source   string `json:"source"`
	Lang     string `json:"lang"`
	Label    string `json:"label"`
	Category string `json:"category"`
	Variant  string `json:"variant"`
	Text     string `json:"text"`
}

func loadCorpus(tb testing.TB) []corpusRow {
	tb.Helper()
	files, _ := filepath.Glob(filepath.Join(corpusDir, "*.jsonl"))
	if len(files) == 0 {
		tb.Skipf("no corpus at %s (*.jsonl); corpus checks need the shared corpus checked out beside the repo", corpusDir)
	}
	var rows []corpusRow
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			tb.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(make([]byte, 1<<20), 16<<20)
		for sc.Scan() {
			var r corpusRow
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
				tb.Fatalf("%s: %v", f, err)
			}
			rows = append(rows, r)
		}
		fh.Close()
	}
	return rows
}

// attackCategories are what counts as "detected" for an injection row:
// the attack may be caught as injection, exfiltration or obfuscation.
func detectsAttack(fs []Finding) bool {
	for _, f := range fs {
		switch f.Category {
		case Injection, Exfiltration, Obfuscation:
			return true
		}
	}
	return false
}

type tally struct{ hit, n int }

func (t tally) rate() float64 {
	if t.n == 0 {
		return 0
	}
	return float64(t.hit) / float64(t.n)
}

func logTallies(t *testing.T, title string, m map[string]*tally) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		t.Logf("%s %-40s %4d/%-4d %5.1f%%", title, k, m[k].hit, m[k].n, 100*m[k].rate())
	}
}

// heldOut splits every corpus deterministically by id: FNV-1a of the id,
// even = dev (phrases were designed looking only at dev rows), odd =
// held-out (never inspected; its recall is the honest number).
func heldOut(id string) bool {
	h := fnv.New32a()
	h.Write([]byte(id))
	return h.Sum32()%2 == 1
}

func half(id string) string {
	if heldOut(id) {
		return "held"
	}
	return "dev"
}

// Floors are set a few points under the measured held-out numbers; they
// catch regressions, not perfection.
var corpusFloors = struct {
	recallBySource map[string]float64 // on the held-out half
	recallEnglish  float64            // held-out CyberSecEval English
	fpPerDoc       float64            // injection/exfiltration/obfuscation findings per benign doc
}{
	recallBySource: map[string]float64{
		"cyberseceval-prompt-injection":              0.48, // held-out 0.528 (dev 0.603)
		"cyberseceval-prompt-injection-multilingual": 0.27, // held-out 0.316 (dev 0.270)
		"bipia-code-attack-train":                    0.70, // held-out 0.815 (dev 1.000)
		"bipia-text-attack-train":                    0.24, // held-out 0.306 (dev 0.615); many rows carry no lexical cue
	},
	recallEnglish: 0.48,
	fpPerDoc:      0.01, // measured 0.000 (dev and held-out)
}

func TestCorpus(t *testing.T) {
	rows := loadCorpus(t)
	s, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	bySource, byLang, byVariant := map[string]*tally{}, map[string]*tally{}, map[string]*tally{}
	bySourceHigh := map[string]*tally{}
	bump := func(m map[string]*tally, k string, hit bool) {
		if m[k] == nil {
			m[k] = &tally{}
		}
		m[k].n++
		if hit {
			m[k].hit++
		}
	}
	var benignDocs, benignFP, benignFPHigh, benignFPDocs int
	fpByHalf := map[string]*tally{}
	fpRules := map[string]int{}
	piiRules := map[string]int{}
	for _, r := range rows {
		fs := s.Scan(r.Text)
		if r.Label == "benign" {
			benignDocs++
			n := 0
			for _, f := range fs {
				switch f.Category {
				case PII:
					piiRules[f.Rule]++
				default:
					n++
					if f.Severity == High {
						benignFPHigh++
					}
					fpRules[f.Rule]++
					if testing.Verbose() {
						t.Logf("FP %s %s: %q", r.ID, f.Rule, f.Excerpt)
					}
				}
			}
			benignFP += n
			if fpByHalf[half(r.ID)] == nil {
				fpByHalf[half(r.ID)] = &tally{}
			}
			fpByHalf[half(r.ID)].hit += n
			fpByHalf[half(r.ID)].n++
			if n > 0 {
				benignFPDocs++
			}
			continue
		}
		hit := detectsAttack(fs)
		h := half(r.ID)
		// What active mode withholds by default: a high-severity finding.
		bump(bySourceHigh, h+" "+r.Source, hit && MaxSeverity(fs) == High)
		for _, p := range []string{h + " ", "all  "} {
			bump(bySource, p+r.Source, hit)
			bump(byLang, p+r.Source+"/"+r.Lang, hit)
			bump(byVariant, p+r.Source+"/"+r.Variant, hit)
		}
	}
	logTallies(t, "recall source", bySource)
	logTallies(t, "recall high  ", bySourceHigh)
	logTallies(t, "recall lang  ", byLang)
	logTallies(t, "recall variant", byVariant)
	fpPerDoc := float64(benignFP) / float64(max(benignDocs, 1))
	t.Logf("benign: %d docs, %d non-PII findings (%.3f/doc; high severity %d), %d docs with any; by rule %v; PII (true positives) %v",
		benignDocs, benignFP, fpPerDoc, benignFPHigh, benignFPDocs, fpRules, piiRules)
	for _, h := range []string{"dev", "held"} {
		if tl := fpByHalf[h]; tl != nil {
			t.Logf("benign %-4s: %d docs, %d non-PII findings", h, tl.n, tl.hit)
		}
	}

	for src, floor := range corpusFloors.recallBySource {
		if tl := bySource["held "+src]; tl != nil && tl.rate() < floor {
			t.Errorf("held-out recall on %s = %.3f, below floor %.3f", src, tl.rate(), floor)
		}
	}
	if tl := byLang["held cyberseceval-prompt-injection/en"]; tl != nil && tl.rate() < corpusFloors.recallEnglish {
		t.Errorf("held-out English recall = %.3f, below floor %.3f", tl.rate(), corpusFloors.recallEnglish)
	}
	if fpPerDoc > corpusFloors.fpPerDoc {
		t.Errorf("false positives per benign doc = %.3f, above ceiling %.3f", fpPerDoc, corpusFloors.fpPerDoc)
	}
}
