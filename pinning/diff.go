package pinning

import (
	"cmp"
	"fmt"
	"reflect"
	"slices"
	"unicode/utf8"

	"github.com/mcpgate/mcpgate/detectors"
)

// Kind names a class of change between a pin and what a server shows now.
type Kind string

// Change kinds. Severity follows what the change can do to the model:
// new text it reads or a wider reach is high, an added tool is low.
const (
	ToolAdded           Kind = "tool_added"
	ToolRemoved         Kind = "tool_removed"
	DescriptionChanged  Kind = "description_changed"
	TitleChanged        Kind = "title_changed"
	SchemaWidened       Kind = "schema_widened"
	SchemaChanged       Kind = "schema_changed"
	OutputSchemaChanged Kind = "output_schema_changed"
	AnnotationsWeakened Kind = "annotations_weakened"
	AnnotationsChanged  Kind = "annotations_changed"
	InstructionsChanged Kind = "instructions_changed"
)

// severity is fixed per kind, so a policy threshold means the same thing
// for every server.
func (k Kind) severity() detectors.Severity {
	switch k {
	case DescriptionChanged, SchemaWidened, AnnotationsWeakened, InstructionsChanged:
		return detectors.High
	case TitleChanged, SchemaChanged, OutputSchemaChanged, ToolRemoved:
		return detectors.Medium
	default: // ToolAdded, AnnotationsChanged
		return detectors.Low
	}
}

// Change is one difference between a pin and the current definitions.
type Change struct {
	Kind     Kind               `json:"kind"`
	Tool     string             `json:"tool,omitempty"`
	Severity detectors.Severity `json:"severity"`
	// Detail is short and names the parameter or annotation. It never
	// quotes a whole description, which may be attacker text: at most a
	// short escaped snippet.
	Detail string `json:"detail"`
}

func newChange(k Kind, tool, format string, args ...any) Change {
	return Change{Kind: k, Tool: tool, Severity: k.severity(), Detail: fmt.Sprintf(format, args...)}
}

// MaxSeverity returns the highest severity among cs, or 0 for none.
func MaxSeverity(cs []Change) detectors.Severity {
	var m detectors.Severity
	for _, c := range cs {
		m = max(m, c.Severity)
	}
	return m
}

// Diff compares two whole sets: tools added and removed, each common
// tool's changes and, when both sets pinned them, the instructions. The
// order is by tool (instructions first), then kind.
func Diff(old, cur Set) []Change {
	var cs []Change
	for _, t := range cur.Tools {
		if o, ok := old.Tool(t.Name); ok {
			cs = append(cs, DiffTool(o, t)...)
		} else {
			cs = append(cs, newChange(ToolAdded, t.Name, "new tool"))
		}
	}
	for _, o := range old.Tools {
		if _, ok := cur.Tool(o.Name); !ok {
			cs = append(cs, newChange(ToolRemoved, o.Name, "no longer listed"))
		}
	}
	if old.Instructions != nil && cur.Instructions != nil && *old.Instructions != *cur.Instructions {
		cs = append(cs, newChange(InstructionsChanged, "", "instructions %s", textChange(*old.Instructions, *cur.Instructions)))
	}
	// Stable: within one tool and kind, changes keep the order of the
	// schema walk, which is itself deterministic.
	slices.SortStableFunc(cs, func(a, b Change) int {
		return cmp.Or(cmp.Compare(a.Tool, b.Tool), cmp.Compare(a.Kind, b.Kind))
	})
	return cs
}

// DiffTool compares two pins of the same tool.
func DiffTool(old, cur Tool) []Change {
	if old.SHA256 == cur.SHA256 {
		return nil
	}
	name := cur.Name
	o, errO := decodeObject(old.Definition)
	c, errC := decodeObject(cur.Definition)
	if errO != nil || errC != nil { // not made by NewTool: say so, never guess
		return []Change{newChange(SchemaChanged, name, "definition changed")}
	}
	var cs []Change
	if !reflect.DeepEqual(o["description"], c["description"]) {
		cs = append(cs, newChange(DescriptionChanged, name, "description %s", textChange(str(o["description"]), str(c["description"]))))
	}
	if !reflect.DeepEqual(o["title"], c["title"]) {
		cs = append(cs, newChange(TitleChanged, name, "title %s", textChange(str(o["title"]), str(c["title"]))))
	}
	if !reflect.DeepEqual(o["inputSchema"], c["inputSchema"]) {
		w := schemaWalk{tool: name}
		w.diff("", o["inputSchema"], c["inputSchema"])
		if len(w.changes) == 0 { // e.g. 1 → 1.0: equal in value, not in text
			w.add(SchemaChanged, "input schema changed")
		}
		cs = append(cs, w.changes...)
	}
	if !reflect.DeepEqual(o["outputSchema"], c["outputSchema"]) {
		cs = append(cs, newChange(OutputSchemaChanged, name, "output schema changed"))
	}
	if !reflect.DeepEqual(o["annotations"], c["annotations"]) {
		cs = append(cs, diffAnnotations(name, obj(o["annotations"]), obj(c["annotations"]))...)
	}
	if len(cs) == 0 { // e.g. the name's spelling inside the definition
		cs = append(cs, newChange(SchemaChanged, name, "definition changed"))
	}
	return cs
}

func decodeObject(raw []byte) (map[string]any, error) {
	v, err := decodeJSON(raw)
	if err != nil {
		return nil, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("not a JSON object")
	}
	return m, nil
}

// snippetBytes bounds how much changed text a detail quotes: enough for a
// reviewer to recognise the change, too little to carry an attack.
const snippetBytes = 32

// textChange describes how a text changed, quoting only a short escaped
// snippet from where the two first differ.
func textChange(old, cur string) string {
	switch {
	case old == "":
		return fmt.Sprintf("added (%d bytes): %s", len(cur), snippet(cur, 0))
	case cur == "":
		return fmt.Sprintf("removed (was %d bytes)", len(old))
	}
	i := 0
	for i < len(old) && i < len(cur) && old[i] == cur[i] {
		i++
	}
	for i > 0 && i < len(cur) && !utf8.RuneStart(cur[i]) {
		i--
	}
	if i == len(cur) { // the new text is a prefix of the old one
		return fmt.Sprintf("truncated at byte %d (%d→%d bytes)", i, len(old), len(cur))
	}
	return fmt.Sprintf("changed at byte %d (%d→%d bytes): %s", i, len(old), len(cur), snippet(cur, i))
}

// snippet quotes at most snippetBytes of s from byte i, with %q so
// control, bidi and tag characters show escaped rather than act.
func snippet(s string, i int) string { return quoteN(s, i, snippetBytes) }

// quote quotes a name (a parameter path, an annotation key) for a detail,
// truncated: names are server-chosen too.
func quote(s string) string { return quoteN(s, 0, 80) }

func quoteN(s string, i, n int) string {
	prefix, suffix := "", ""
	if i > 0 {
		prefix = "…"
	}
	end := i + n
	if end >= len(s) {
		end = len(s)
	} else {
		for end > i && !utf8.RuneStart(s[end]) {
			end--
		}
		suffix = "…"
	}
	return fmt.Sprintf("%s%q%s", prefix, s[i:end], suffix)
}

func obj(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

func str(v any) string {
	s, _ := v.(string)
	return s
}
