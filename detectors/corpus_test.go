package detectors

import (
	"github.com/mcpgate/mcpgate/internal/corpusdir"

	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// corpusDir is the shared labelled corpus (corpusdir.Find); "" when there
// is none.
var corpusDir = func() string {
	d, _ := corpusdir.Find()
	return d
}()

type corpusRow struct {
	ID       string `json:"id"`
	Source   string `json:"source"`
	Lang     string `json:"lang"`
	Label    string `json:"label"`
	Category string `json:"category"`
	Variant  string `json:"variant"`
	Context  string `json:"context"`
	Text     string `json:"text"`
}

// loadCorpus reads the tuning sets (shared/corpus/*.jsonl).
func loadCorpus(tb testing.TB) []corpusRow {
	tb.Helper()
	return loadJSONL(tb, "*.jsonl")
}

// loadTrain reads the training corpus (shared/corpus/train/*.jsonl).
func loadTrain(tb testing.TB) []corpusRow {
	tb.Helper()
	return loadJSONL(tb, filepath.Join("train", "*.jsonl"))
}

func loadJSONL(tb testing.TB, glob string) []corpusRow {
	tb.Helper()
	rows, err := readJSONL(glob)
	if errors.Is(err, errNoCorpus) {
		tb.Skipf("%v (set MCPGATE_CORPUS, or check out shared/corpus beside the repo)", err)
	}
	if err != nil {
		tb.Fatal(err)
	}
	return rows
}

var errNoCorpus = errors.New("no corpus")

// readJSONL reads every row of the corpus files matching glob.
func readJSONL(glob string) ([]corpusRow, error) {
	var files []string
	if corpusDir != "" {
		files, _ = filepath.Glob(filepath.Join(corpusDir, glob))
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("%w: no files %s under %q", errNoCorpus, glob, corpusDir)
	}
	var rows []corpusRow
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			return nil, err
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(make([]byte, 1<<20), 16<<20)
		for sc.Scan() {
			var r corpusRow
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
				fh.Close()
				return nil, fmt.Errorf("%s: %w", f, err)
			}
			rows = append(rows, r)
		}
		fh.Close()
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
	}
	return rows, nil
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

// scanRow scans a corpus row the way the gateway sees it: a tools/list
// result is scanned tool by tool as tool definitions, anything else as
// content.
func scanRow(s *Scanner, r corpusRow) []Finding {
	if strings.HasPrefix(r.Context, "MCP tools/list") {
		var list struct {
			Tools []json.RawMessage `json:"tools"`
		}
		if json.Unmarshal([]byte(r.Text), &list) == nil && len(list.Tools) > 0 {
			var out []Finding
			for _, tool := range list.Tools {
				fs, err := s.ScanTool(tool)
				if err == nil {
					out = append(out, fs...)
				}
			}
			return out
		}
	}
	return s.Scan(r.Text)
}

// withholding: a finding the default policy acts on (medium or above, not
// PII; see extproc.DefaultPolicy).
func withholding(f Finding) bool { return f.Severity >= Medium && f.Category != PII }

// TestCorpusTrain measures the training corpus (shared/corpus/train): recall
// per source, category and context, and false positives per benign source.
// The rules were written against the attack shapes named in issue 15, not
// against these rows; the table is printed with -v. Floors catch
// regressions.
func TestCorpusTrain(t *testing.T) {
	rows := loadTrain(t)
	s := newScanner(t, Options{})
	type key struct{ group, k string }
	any, high := map[key]*tally{}, map[key]*tally{}
	fpAny, fpHold := map[string]*tally{}, map[string]*tally{}
	fpRules := map[string]int{}
	bump := func(m map[key]*tally, k key, hit bool) {
		if m[k] == nil {
			m[k] = &tally{}
		}
		m[k].n++
		if hit {
			m[k].hit++
		}
	}
	var attacks, attackHit, benign, benignHold int
	for _, r := range rows {
		fs := scanRow(s, r)
		if r.Label == "benign" {
			benign++
			var a, h bool
			for _, f := range fs {
				if f.Category == PII {
					continue
				}
				a = true
				if withholding(f) {
					h = true
					fpRules[f.Rule]++
					if testing.Verbose() && os.Getenv("CORPUS_FP") != "" {
						t.Logf("FP %s %s %s: %q", r.ID, f.Rule, f.Severity, f.Excerpt)
					}
				}
			}
			if h {
				benignHold++
			}
			for _, m := range []struct {
				m   map[string]*tally
				hit bool
			}{{fpAny, a}, {fpHold, h}} {
				if m.m[r.Source] == nil {
					m.m[r.Source] = &tally{}
				}
				m.m[r.Source].n++
				if m.hit {
					m.m[r.Source].hit++
				}
			}
			continue
		}
		hit, hi := false, false
		for _, f := range fs {
			switch f.Category {
			case Injection, Exfiltration, Obfuscation, Poisoning:
				hit = true
				hi = hi || f.Severity == High
			}
		}
		attacks++
		if hit {
			attackHit++
		}
		for _, k := range []key{{"source", r.Source}, {"category", r.Category}, {"context", r.Context}, {"lang", r.Lang}} {
			bump(any, k, hit)
			bump(high, k, hi)
		}
	}
	keys := make([]key, 0, len(any))
	for k := range any {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].group != keys[j].group {
			return keys[i].group < keys[j].group
		}
		return keys[i].k < keys[j].k
	})
	for _, k := range keys {
		t.Logf("train recall %-8s %-50s %4d/%-4d %5.1f%%  high %5.1f%%", k.group, k.k, any[k].hit, any[k].n, 100*any[k].rate(), 100*high[k].rate())
	}
	srcs := make([]string, 0, len(fpAny))
	for k := range fpAny {
		srcs = append(srcs, k)
	}
	sort.Strings(srcs)
	for _, k := range srcs {
		t.Logf("train FP %-50s any %4d/%-4d %5.1f%%  withholding %4d %5.1f%%", k, fpAny[k].hit, fpAny[k].n, 100*fpAny[k].rate(), fpHold[k].hit, 100*fpHold[k].rate())
	}
	recall := float64(attackHit) / float64(max(attacks, 1))
	fp := float64(benignHold) / float64(max(benign, 1))
	t.Logf("train: recall %.3f (%d/%d); withholding FP %.4f (%d/%d docs); withholding FP rules %v", recall, attackHit, attacks, fp, benignHold, benign, fpRules)
	if recall < trainFloors.recall {
		t.Errorf("train recall %.3f below floor %.3f", recall, trainFloors.recall)
	}
	if fp > trainFloors.fpWithhold {
		t.Errorf("train withholding FP rate %.4f above ceiling %.4f", fp, trainFloors.fpWithhold)
	}
}

// trainFloors: set a few points under the measured figures (issue 15:
// recall 0.416 -> 0.513, withholding FP 0.0198 -> 0.0031 of documents).
var trainFloors = struct{ recall, fpWithhold float64 }{recall: 0.49, fpWithhold: 0.006}
