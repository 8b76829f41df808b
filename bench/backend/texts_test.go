package main

import (
	"os"
	"strings"
	"testing"
	"unicode/utf8"
)

const corpusDir = "../../../shared/corpus/train"

func TestBuild(t *testing.T) {
	if _, err := os.Stat(corpusDir + "/benign.jsonl"); err != nil {
		t.Skipf("training corpus not found at %s (the bench builds its outputs from it): %v", corpusDir, err)
	}
	tx, err := loadTexts(corpusDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range []string{kindRepeat, kindProse, kindCode, kindJSON, kindMarkup, kindAttack} {
		for _, n := range []int{1 << 10, 16 << 10, 256 << 10} {
			a, err := tx.build(kind, n, 0)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := tx.build(kind, n, 1)
			switch {
			case len(a) != n:
				t.Errorf("%s %d: %d bytes", kind, n, len(a))
			case !strings.HasSuffix(a, endMarker):
				t.Errorf("%s %d: no end marker", kind, n)
			case !utf8.ValidString(a):
				t.Errorf("%s %d: invalid UTF-8", kind, n)
			case kind != kindRepeat && a == b:
				t.Errorf("%s %d: variants 0 and 1 are the same text", kind, n)
			case kind == kindAttack && !strings.Contains(a, tx.attacks[0]):
				t.Errorf("%s %d: the injection is not whole in the text", kind, n)
			}
		}
	}
	if _, err := tx.build("nonsense", 1024, 0); err == nil {
		t.Error("an unknown kind was accepted")
	}
}
