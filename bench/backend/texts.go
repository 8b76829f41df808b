package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/mcpgate/mcpgate/detectors"
)

// Kinds of bench_text output. "repeat" is one benign sentence repeated, the
// harness's old text, kept so a run shows how far it is from real text; the
// others are built from the training corpus's benign rows (real docs, code,
// API records and pages in several languages), never from one sentence.
const (
	kindRepeat = "repeat"
	kindProse  = "prose"  // bare text and file contents: docs, docstrings, po files
	kindCode   = "code"   // source files and MCP tool sources
	kindJSON   = "json"   // tool results that are JSON records
	kindMarkup = "markup" // fetched web pages, markdown and HTML
	kindAttack = "attack" // prose with one injection the detectors withhold
)

// variants is how many different texts each kind and size rotates through,
// so consecutive calls do not return identical bytes.
const variants = 8

// corpusRow is the part of a corpus line the backend reads.
type corpusRow struct {
	ID      string `json:"id"`
	Context string `json:"context"`
	Text    string `json:"text"`
}

// texts holds the corpus rows by kind and the injection rows for kindAttack.
type texts struct {
	rows    map[string][]string
	attacks []string
}

// kindOf sorts a benign row into an output kind by the context the corpus
// rendered it in.
func kindOf(context string) string {
	switch {
	case strings.Contains(context, "code file"), strings.HasPrefix(context, "MCP tool source"):
		return kindCode
	case strings.HasPrefix(context, "web page"):
		return kindMarkup
	case strings.Contains(context, "JSON"):
		return kindJSON
	case strings.HasPrefix(context, "bare text"), strings.HasPrefix(context, "file content"):
		return kindProse
	}
	return ""
}

// loadTexts reads benign.jsonl and attacks.jsonl from dir. For the attack
// kind it keeps short injections (whole even in a 1 KiB output) that the
// default detectors withhold (high severity), so the cell measures the
// withholding path, not a miss.
func loadTexts(dir string) (*texts, error) {
	t := &texts{rows: map[string][]string{}}
	benign, err := readRows(filepath.Join(dir, "benign.jsonl"))
	if err != nil {
		return nil, err
	}
	for _, r := range benign {
		if k := kindOf(r.Context); k != "" {
			t.rows[k] = append(t.rows[k], r.Text)
		}
	}
	for _, k := range []string{kindProse, kindCode, kindJSON, kindMarkup} {
		if len(t.rows[k]) == 0 {
			return nil, fmt.Errorf("%s: no benign rows of kind %s", dir, k)
		}
	}
	attacks, err := readRows(filepath.Join(dir, "attacks.jsonl"))
	if err != nil {
		return nil, err
	}
	sc, err := detectors.New(detectors.Options{})
	if err != nil {
		return nil, fmt.Errorf("detectors: %w", err)
	}
	for _, r := range attacks {
		if len(r.Text) <= 480 && detectors.MaxSeverity(sc.Scan(r.Text)) == detectors.High {
			t.attacks = append(t.attacks, r.Text)
		}
		if len(t.attacks) == variants {
			break
		}
	}
	if len(t.attacks) == 0 {
		return nil, fmt.Errorf("%s: no attack row the detectors withhold", dir)
	}
	return t, nil
}

// readRows reads a JSON-lines corpus file, sorted by id so every run builds
// the same texts.
func readRows(path string) ([]corpusRow, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("corpus: %w", err)
	}
	defer f.Close()
	var rows []corpusRow
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var r corpusRow
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		rows = append(rows, r)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	slices.SortFunc(rows, func(a, b corpusRow) int { return strings.Compare(a.ID, b.ID) })
	return rows, nil
}

// build returns variant v of a text of kind and exactly n bytes (n larger
// than the end marker), ending in the end marker.
func (t *texts) build(kind string, n, v int) (string, error) {
	n -= len(endMarker)
	var b strings.Builder
	switch kind {
	case kindRepeat:
		return strings.Repeat(paragraph, n/len(paragraph)+1)[:n] + endMarker, nil
	case kindAttack:
		// One injection in the middle of benign prose: what a poisoned
		// page or file looks like, and what windowed detectors must find.
		attack := t.attacks[v%len(t.attacks)]
		if len(attack) > n/2 {
			attack = clip(attack, n/2)
		}
		// Blank lines around it, as between paragraphs: glued to a word or
		// into an unclosed string of the clipped text around it, it would
		// be another, easier case for the detectors to miss.
		attack = "\n\n" + attack + "\n\n"
		head := t.fill(kindProse, (n-len(attack))/2, v)
		b.WriteString(head)
		b.WriteString(attack)
		b.WriteString(t.fill(kindProse, n-len(head)-len(attack), v+1))
	case kindProse, kindCode, kindJSON, kindMarkup:
		b.WriteString(t.fill(kind, n, v))
	default:
		return "", fmt.Errorf("unknown kind %q (want repeat, prose, code, json, markup or attack)", kind)
	}
	s := b.String()
	// fill and clip cut at rune boundaries, so the text may fall a few
	// bytes short; pad with spaces so the size is exact.
	return s + strings.Repeat(" ", n-len(s)) + endMarker, nil
}

// fill concatenates rows of kind, starting at a row chosen by variant v,
// until n bytes, cut at a rune boundary.
func (t *texts) fill(kind string, n, v int) string {
	rows := t.rows[kind]
	var b strings.Builder
	for i := v * 7919; b.Len() < n; i++ {
		b.WriteString(rows[i%len(rows)])
		b.WriteString("\n\n")
	}
	return clip(b.String(), n)
}

// clip cuts s to at most n bytes at a rune boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
