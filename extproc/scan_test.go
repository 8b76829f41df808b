package extproc

import (
	"encoding/base64"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/mcpgate/mcpgate/detectors"
)

func TestTextMedia(t *testing.T) {
	for media, want := range map[string]bool{
		"text/plain": true, "text/markdown; charset=utf-8": true, "TEXT/HTML": true,
		"application/json": true, "application/ld+json": true, "application/xml": true, "image/svg+xml": true,
		"application/yaml": true, "application/x-yaml": true, "application/javascript": true, "application/x-sh": true,
		"image/png": false, "audio/wav": false, "application/octet-stream": false, "application/pdf": false, "": false,
	} {
		if got := textMedia(media); got != want {
			t.Errorf("textMedia(%q) = %v, want %v", media, got, want)
		}
	}
}

// TestScanWhole: which parts of a message the whole scan reads, by the
// JSON path of each finding.
func TestScanWhole(t *testing.T) {
	b64 := base64.StdEncoding.EncodeToString([]byte(escapeText))
	tests := []struct {
		name, json string
		want       []string // finding fields; nil: none
	}{
		{"string value", `{"a":{"b":["` + escapeText + `"]}}`, []string{"a.b[0]"}},
		{"object key", `{"a":{"` + escapeText + `":1}}`, []string{"a.{keys}"}},
		{"_meta", `{"_meta":{"x":"` + escapeText + `"}}`, []string{"_meta.x"}},
		{"text blob", `{"uri":"u","mimeType":"text/plain","blob":"` + b64 + `"}`, []string{"blob"}},
		{"blob without type", `{"uri":"u","blob":"` + b64 + `"}`, []string{"blob"}},
		{"binary blob", `{"uri":"u","mimeType":"image/png","blob":"` + b64 + `"}`, nil},
		{"image data", `{"type":"image","mimeType":"image/png","data":"` + b64 + `"}`, nil},
		{"data of anything else", `{"level":"info","data":"` + escapeText + `"}`, []string{"data"}},
		{"duplicate data", `{"data":"` + escapeText + `","data":"fine"}`, []string{"data"}},
		{"data after an image type is still image data", `{"data":"` + b64 + `","type":"image"}`, nil},
		{"image and text type", `{"type":"image","type":"text","data":"` + escapeText + `"}`, []string{"data"}},
		{"text and image type", `{"type":"text","type":"image","data":"` + escapeText + `"}`, []string{"data"}},
		{"requestState", `{"requestState":"` + escapeText + `"}`, nil},
	}
	p := testPolicy(Active)
	sc, err := p.newScanner()
	if err != nil {
		t.Fatal(err)
	}
	s := newStream("t", discardLogger(), p, sc, DefaultBackend)
	for _, tt := range tests {
		var fs []detectors.Finding
		s.scanWhole(gjson.Parse(tt.json), "", "", &fs)
		fields := map[string]bool{}
		for _, f := range fs {
			fields[f.Field] = true
		}
		if len(tt.want) == 0 && len(fs) > 0 {
			t.Errorf("%s: findings in %v, want none", tt.name, fields)
		}
		for _, w := range tt.want {
			if !fields[w] {
				t.Errorf("%s: no finding in %s (got %v)", tt.name, w, fields)
			}
		}
	}
}
