package detectors

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/mcpgate/mcpgate/internal/jsondepth"
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
	// Before gjson, whose validation recurses once per level.
	if jsondepth.Exceeds(tool, maxToolDepth) {
		return nil, fmt.Errorf("detectors: tool definition nests deeper than %d levels", maxToolDepth)
	}
	if !gjson.ValidBytes(tool) {
		return nil, errors.New("detectors: tool definition is not valid JSON")
	}
	root := gjson.ParseBytes(tool)
	if !root.IsObject() {
		return nil, errors.New("detectors: tool definition is not a JSON object")
	}
	var out []Finding
	s.walkTool(root, nil, false, &out)
	return out, nil
}

// maxToolDepth bounds the nesting of a tool definition. A deeper one is an
// error, not a partial scan: skipping what lies below the bound would hide
// it from the detectors. mcpgate's own bound on a whole message is lower.
const maxToolDepth = 256

// toolPath is the path of the value being walked, as steps from the root,
// rendered only for a finding: joining strings per value would copy every
// key once per descendant.
type toolPath struct {
	up  *toolPath
	key string
}

func (p *toolPath) String() string {
	var keys []string
	for q := p; q != nil; q = q.up {
		keys = append(keys, q.key)
	}
	slices.Reverse(keys)
	return strings.Join(keys, ".")
}

func (s *Scanner) walkTool(v gjson.Result, path *toolPath, isProperties bool, out *[]Finding) {
	switch {
	case v.IsObject():
		v.ForEach(func(k, val gjson.Result) bool {
			key := k.String()
			p := &toolPath{up: path, key: key}
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
			s.walkTool(val, &toolPath{up: path, key: strconv.Itoa(i)}, false, out)
			i++
			return true
		})
	case v.Type == gjson.String:
		s.scanField(v.String(), path, out)
	}
}

func (s *Scanner) scanField(text string, field *toolPath, out *[]Finding) {
	fs := s.scan(text, 0, true, false)
	if len(fs) == 0 {
		return
	}
	name := field.String()
	for i := range fs {
		fs[i].Field = name
	}
	*out = append(*out, fs...)
}
