package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/mcpgate/mcpgate/detectors/classifier/internal/feature"
)

// row is one labelled text of the corpus or of the repository's own cases.
type row struct {
	ID       string `json:"id"`
	Source   string `json:"source"`
	License  string `json:"license"`
	Lang     string `json:"lang"`
	Label    string `json:"label"`
	Category string `json:"category"`
	Context  string `json:"context"`
	Variant  string `json:"variant"`
	Text     string `json:"text"`

	file string // corpus file it came from, for licence defaults
	aug  bool   // a snippet cut from another row (see snippets)

	// filled by featurize
	feats  []uint32 // buckets, in order of the byte they end at
	blocks []int32  // feats[blocks[i]:blocks[i+1]] belong to block i
}

func (r *row) attack() bool { return r.Label == "attack" }
func (r *row) exfil() bool  { return r.Category == "exfiltration" }

// group is the leave-one-source-out unit: the source up to its first
// colon ("pyrit:jailbreak/…" → "pyrit"). CyberSecEval's two files are one
// group: the multilingual rows are translations of the English prompts,
// so leaving out one while training on the other would leak.
func (r *row) group() string {
	g, _, _ := strings.Cut(r.Source, ":")
	if strings.HasPrefix(g, "cyberseceval") {
		return "cyberseceval"
	}
	return g
}

// corpusFiles are read in this order; rows are then sorted by id so the
// order on disk does not matter.
var corpusFiles = []string{
	"train/attacks.jsonl",
	"train/benign.jsonl",
	"injection-cyberseceval.jsonl",
	"injection-bipia-instructions.jsonl",
	"benign-bipia.jsonl",
}

// licenceOf gives a row's licence: its own field where it has one, else
// the licence of the file's source (corpus README).
func licenceOf(r *row) string {
	if r.License != "" {
		return r.License
	}
	switch {
	case strings.HasPrefix(r.Source, "cyberseceval"):
		return "MIT"
	case strings.HasPrefix(r.Source, "bipia-table") || strings.HasPrefix(r.Source, "bipia-code-train"):
		return "MIT; CC-BY-SA-4.0 contexts"
	case strings.HasPrefix(r.Source, "bipia"):
		return "MIT"
	}
	return ""
}

// shippable reports whether a model the project ships may learn from a row
// of this licence (train/README.md): commercial use and redistribution.
// Tensor Trust (no licence) and WASP (CC-BY-NC-4.0) are excluded.
func shippable(lic string) bool {
	l := strings.ToUpper(lic)
	if l == "" || strings.Contains(l, "UNSPECIFIED") || strings.Contains(l, "-NC") || strings.Contains(l, "NON-COMMERCIAL") {
		return false
	}
	for _, ok := range []string{"MIT", "APACHE-2.0", "BSD", "PSF-2.0", "CC0", "CC-BY-4.0", "CC-BY-SA-4.0"} {
		if strings.Contains(l, ok) {
			return true
		}
	}
	return false
}

func readJSONL(path string) ([]*row, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var rows []*row
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for n := 1; sc.Scan(); n++ {
		r := new(row)
		if err := json.Unmarshal(sc.Bytes(), r); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, n, err)
		}
		if r.ID == "" || (r.Label != "attack" && r.Label != "benign") {
			return nil, fmt.Errorf("%s:%d: row needs an id and label attack or benign", path, n)
		}
		r.file = filepath.Base(path)
		rows = append(rows, r)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return rows, nil
}

// load reads the corpus and the repository's cases, sorted by id.
func load(corpus, cases string) ([]*row, error) {
	var all []*row
	for _, f := range corpusFiles {
		rows, err := readJSONL(filepath.Join(corpus, f))
		if err != nil {
			return nil, fmt.Errorf("corpus: %w", err)
		}
		all = append(all, rows...)
	}
	if cases != "" {
		rows, err := readJSONL(cases)
		if err != nil {
			return nil, fmt.Errorf("cases: %w", err)
		}
		all = append(all, rows...)
	}
	slices.SortFunc(all, func(a, b *row) int { return strings.Compare(a.ID, b.ID) })
	for i := 1; i < len(all); i++ {
		if all[i].ID == all[i-1].ID {
			return nil, fmt.Errorf("duplicate row id %q", all[i].ID)
		}
	}
	return all, nil
}

// featurize fills r.feats and r.blocks with the model's features.
func featurize(r *row) {
	nb := (len(r.Text) + feature.BlockSize - 1) / feature.BlockSize
	r.blocks = make([]int32, 1, nb+1)
	r.feats = r.feats[:0]
	blk := 0
	feature.Each(r.Text, func(f feature.Feat) {
		for f.At/feature.BlockSize > blk {
			r.blocks = append(r.blocks, int32(len(r.feats)))
			blk++
		}
		r.feats = append(r.feats, f.Bucket)
	})
	for len(r.blocks) < nb+1 {
		r.blocks = append(r.blocks, int32(len(r.feats)))
	}
}

// holdout puts about one row in five into the calibration split, by a hash
// of its id, so the split is stable whatever else is in the corpus.
func holdout(r *row) bool {
	h := fnv.New32a()
	h.Write([]byte(r.ID))
	return h.Sum32()%5 == 0
}

// snippets cuts one short piece (16-256 bytes, from a word start) out of
// each benign row: tool fields, JSON values and one-line answers are
// short, and the corpus has almost no short benign text while many of its
// attacks are short, which would teach the model that brevity is an
// attack. The cut is chosen by a hash of the id, so it is reproducible.
func snippets(rows []*row) []*row {
	var out []*row
	for _, r := range rows {
		if r.attack() || len(r.Text) < 64 {
			continue
		}
		h := fnv.New64a()
		h.Write([]byte(r.ID))
		v := h.Sum64()
		n := min(len(r.Text), 16+int(v%241))
		at := int((v >> 16) % uint64(len(r.Text)-n+1))
		for at > 0 && feature.IsWord[feature.Norm[r.Text[at-1]]] {
			at--
		}
		end := min(len(r.Text), at+n)
		s := *r
		s.ID, s.Text, s.aug = r.ID+"#snippet", r.Text[at:end], true
		s.Context = "snippet (cut from a benign row)"
		s.feats, s.blocks = nil, nil
		out = append(out, &s)
	}
	return out
}

// phraseLists renders short fragments of every fifth attack row as a list
// of quoted strings in source code (a filter's pattern table, a test's
// cases) and labels it benign: code that lists phrases is data a coding
// agent reads, and the corpus has none. A real injection addresses the
// model in sentences; two to four words in a string table do not. The row
// keeps the attack's source, so leave-one-source-out stays honest.
func phraseLists(rows []*row) []*row {
	templates := []struct{ head, sep, tail string }{
		{"var phrases = []string{\n\t\"", "\",\n\t\"", "\",\n}\n"},
		{"PATTERNS = [\n    \"", "\",\n    \"", "\",\n]\n"},
		{"{\"patterns\": [\"", "\", \"", "\"]}"},
		{"const blocked = ['", "', '", "'];\n"},
		{"re := regexp.MustCompile(`(?i)\\b(?:", "|", ")\\b`)\n"},
		{"PATTERN = re.compile(r\"(?:", "|", ")\", re.I)\n"},
	}
	var out []*row
	n := 0
	for _, r := range rows {
		if !r.attack() {
			continue
		}
		if n++; n%5 != 0 {
			continue
		}
		words := strings.Fields(r.Text)
		if len(words) < 8 {
			continue
		}
		h := fnv.New64a()
		h.Write([]byte(r.ID))
		v := h.Sum64()
		var frags []string
		for k := range 4 + int(v%5) {
			v = v*6364136223846793005 + 1442695040888963407
			at := int(v>>33) % (len(words) - 4)
			frag := strings.Join(words[at:at+2+k%3], " ")
			frag = strings.NewReplacer(`"`, "", `'`, "", `\`, "", "`", "", "|", "").Replace(frag)
			if int(v>>40)%2 == 0 {
				frag = strings.ReplaceAll(frag, " ", `\s+`)
			}
			frags = append(frags, strings.ToLower(frag))
		}
		t := templates[int(v>>40)%len(templates)]
		s := *r
		s.ID, s.Label, s.Category, s.aug = r.ID+"#list", "benign", "none", true
		s.Text = t.head + strings.Join(frags, t.sep) + t.tail
		s.Context = "phrase list in code (derived from an attack row)"
		s.feats, s.blocks = nil, nil
		out = append(out, &s)
	}
	return out
}
