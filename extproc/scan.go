package extproc

import (
	"encoding/base64"
	"mime"
	"strings"
	"unicode/utf8"

	"github.com/tidwall/gjson"

	"github.com/mcpgate/mcpgate/detectors"
)

// scanWhole scans every string under v and every object key, as the client
// will read them (unescaped), naming each finding's JSON path in Field.
// What it skips holds no text: image and audio data, a blob whose media
// type is not text, and MRTR requestState (opaque to the client, echoed
// back untouched). A blob with a text media type is decoded and scanned.
// skip names top-level keys of v already judged by a list rule.
func (s *stream) scanWhole(v gjson.Result, path, skip string, out *[]detectors.Finding) {
	if s.scanner == nil {
		return
	}
	s.scanValue(v, rootPath(path), skip, out)
}

// rootPath is the field path a walk starts from: path names it whole.
func rootPath(path string) *fieldPath {
	if path == "" {
		return nil
	}
	return keyStep(nil, path)
}

// scanValue walks v (depth-checked by bounds.go, so the recursion is
// shallow); a path becomes a string only for a finding.
func (s *stream) scanValue(v gjson.Result, path *fieldPath, skip string, out *[]detectors.Finding) {
	switch {
	case v.Type == gjson.String:
		s.scanText(v.String(), path, out)
	case v.IsArray():
		i := 0
		v.ForEach(func(_, el gjson.Result) bool {
			s.scanValue(el, indexStep(path, i), "", out)
			i++
			return true
		})
	case v.IsObject():
		// One pass over the object: whether data is binary and how a blob
		// decodes depend on type and mimeType, which may come after them.
		// Slices, not single values: a duplicate key must not hide one.
		binary, mimeType := false, ""
		var sawType bool
		var data, blob []gjson.Result
		var dataPath, blobPath []*fieldPath
		var keys strings.Builder
		v.ForEach(func(k, el gjson.Result) bool {
			key := k.String()
			keys.WriteString(key)
			keys.WriteByte('\n')
			p := keyStep(path, key)
			switch {
			case skip != "" && key == skip:
			case key == "requestState":
			case key == "data" && el.Type == gjson.String:
				data, dataPath = append(data, el), append(dataPath, p)
			case key == "blob" && el.Type == gjson.String:
				blob, blobPath = append(blob, el), append(blobPath, p)
			default:
				if key == "type" {
					// Binary only if every type says so (duplicates).
					isBin := el.Type == gjson.String && (el.Str == "image" || el.Str == "audio")
					binary = isBin && (binary || !sawType)
					sawType = true
				}
				if key == "mimeType" && el.Type == gjson.String {
					mimeType = el.Str
				}
				s.scanValue(el, p, "", out)
			}
			return true
		})
		for i, d := range data {
			if !binary {
				s.scanText(d.String(), dataPath[i], out)
			}
		}
		for i, b := range blob {
			s.scanBlob(b.String(), mimeType, blobPath[i], out)
		}
		// Keys reach the model too (structuredContent, schemas, _meta):
		// one scan per object covers them all.
		s.scanText(keys.String(), keyStep(path, "{keys}"), out)
	}
}

// scanKeys scans the object keys under v, for definitions whose strings
// another walk covers (ScanTool reads every string of a tool and the
// property names, not the other keys). Keys of a "properties" object are
// left to that walk.
func (s *stream) scanKeys(v gjson.Result, path string, properties bool, out *[]detectors.Finding) {
	s.scanKeysAt(v, rootPath(path), properties, out)
}

func (s *stream) scanKeysAt(v gjson.Result, path *fieldPath, properties bool, out *[]detectors.Finding) {
	if !v.IsObject() && !v.IsArray() {
		return
	}
	var keys strings.Builder
	i := 0
	v.ForEach(func(k, el gjson.Result) bool {
		p := indexStep(path, i)
		if v.IsObject() {
			keys.WriteString(k.String())
			keys.WriteByte('\n')
			p = keyStep(path, k.String())
		}
		i++
		s.scanKeysAt(el, p, k.String() == "properties" && el.IsObject(), out)
		return true
	})
	if v.IsObject() && !properties {
		s.scanText(keys.String(), keyStep(path, "{keys}"), out)
	}
}

func (s *stream) scanText(text string, path *fieldPath, out *[]detectors.Finding) {
	if text == "" {
		return
	}
	for _, f := range s.scanner.Scan(text) {
		f.Field = path.String()
		*out = append(*out, f)
	}
}

// scanBlob decodes a base64 blob that a client may render as text: one
// with a text media type, or none and valid UTF-8 inside. A blob that is
// not base64 is scanned as it stands.
func (s *stream) scanBlob(blob, mimeType string, path *fieldPath, out *[]detectors.Finding) {
	plain, err := base64.StdEncoding.DecodeString(blob)
	if err != nil {
		if plain, err = base64.RawStdEncoding.DecodeString(blob); err != nil {
			s.scanText(blob, path, out)
			return
		}
	}
	if (mimeType == "" || textMedia(mimeType)) && utf8.Valid(plain) {
		s.scanText(string(plain), path, out)
	}
}

// textMedia reports whether a media type is text a client may show or
// hand to the model: text/*, JSON, XML, YAML, JavaScript and their +suffix
// forms.
func textMedia(mimeType string) bool {
	media, _, err := mime.ParseMediaType(mimeType)
	if err != nil {
		media = strings.ToLower(strings.TrimSpace(mimeType))
	}
	if strings.HasPrefix(media, "text/") {
		return true
	}
	for _, t := range []string{"json", "xml", "yaml", "javascript", "ecmascript", "x-sh", "sql", "graphql", "toml"} {
		if strings.HasSuffix(media, "/"+t) || strings.HasSuffix(media, "+"+t) || strings.HasSuffix(media, "/x-"+t) {
			return true
		}
	}
	return false
}
