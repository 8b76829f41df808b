package detectors

import (
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/tidwall/gjson"
)

// ScanTool scans an MCP tool definition (a JSON object with name, title,
// description, inputSchema, outputSchema, annotations). Every string the
// model gets to see is scanned — names, titles, descriptions, defaults,
// examples, enum values, annotation strings, property names, at any depth —
// with all rules plus the poisoning rules, which only make sense here.
//
// Finding.Field names the string ("description",
// "inputSchema.properties.path.description"); Start and End are byte
// offsets into that string. A property name is reported with the field
// "inputSchema.properties.<name>" and offsets into the name. Findings come
// in document order, then by Start and Rule.
func (s *Scanner) ScanTool(tool []byte) ([]Finding, error) {
	if !gjson.ValidBytes(tool) {
		return nil, errors.New("detectors: tool definition is not valid JSON")
	}
	root := gjson.ParseBytes(tool)
	if !root.IsObject() {
		return nil, errors.New("detectors: tool definition is not a JSON object")
	}
	var out []Finding
	s.walkTool(root, "", false, &out)
	return out, nil
}

// maxToolDepth bounds recursion on hostile, deeply nested schemas.
const maxToolDepth = 64

func (s *Scanner) walkTool(v gjson.Result, path string, isProperties bool, out *[]Finding) {
	if strings.Count(path, ".") > maxToolDepth {
		return
	}
	switch {
	case v.IsObject():
		v.ForEach(func(k, val gjson.Result) bool {
			key := k.String()
			p := joinPath(path, key)
			if isProperties {
				// Property names are shown to the model too, and can carry
				// a whole sentence.
				s.scanField(key, p, out)
			}
			s.walkTool(val, p, key == "properties" && val.IsObject(), out)
			return true
		})
	case v.IsArray():
		i := 0
		v.ForEach(func(_, val gjson.Result) bool {
			s.walkTool(val, joinPath(path, strconv.Itoa(i)), false, out)
			i++
			return true
		})
	case v.Type == gjson.String:
		s.scanField(v.String(), path, out)
	}
}

func (s *Scanner) scanField(text, field string, out *[]Finding) {
	fs := s.scan(text, 0, true, false)
	for i := range fs {
		fs[i].Field = field
	}
	*out = slices.Concat(*out, fs)
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
