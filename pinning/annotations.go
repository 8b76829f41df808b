package pinning

import (
	"reflect"
	"slices"
)

// hint is one boolean tool annotation with the value the MCP spec assumes
// when it is absent, and the value that promises the safer tool.
type hint struct {
	key       string
	def, safe bool
}

var hints = []hint{
	{"readOnlyHint", false, true},
	{"destructiveHint", true, false},
	{"idempotentHint", false, true},
	{"openWorldHint", true, false},
}

// diffAnnotations reports each changed annotation. A hint that promised
// safety and no longer does (taking absent hints at the spec's defaults)
// is weakened: clients use hints to decide what needs the user's consent.
func diffAnnotations(tool string, o, c map[string]any) []Change {
	var cs []Change
	known := map[string]bool{}
	for _, h := range hints {
		known[h.key] = true
		ov, oOK := o[h.key].(bool)
		nv, nOK := c[h.key].(bool)
		if reflect.DeepEqual(o[h.key], c[h.key]) {
			continue
		}
		was, now := h.def, h.def
		if oOK {
			was = ov
		}
		if nOK {
			now = nv
		}
		weakened := was == h.safe && now != h.safe ||
			// Many clients read an absent destructiveHint as "not
			// destructive" (it only applies when readOnlyHint is false),
			// so one that appears as true is a weakening too.
			h.key == "destructiveHint" && !oOK && nOK && nv
		kind := AnnotationsChanged
		if weakened {
			kind = AnnotationsWeakened
		}
		cs = append(cs, newChange(kind, tool, "%s %s→%s", h.key, hintText(o[h.key]), hintText(c[h.key])))
	}
	keys := map[string]bool{}
	for k := range o {
		keys[k] = true
	}
	for k := range c {
		keys[k] = true
	}
	var other []string
	for k := range keys {
		if !known[k] && !reflect.DeepEqual(o[k], c[k]) {
			other = append(other, k)
		}
	}
	slices.Sort(other)
	for _, k := range other {
		cs = append(cs, newChange(AnnotationsChanged, tool, "%s changed", quote(k)))
	}
	return cs
}

func hintText(v any) string {
	switch v {
	case nil:
		return "absent"
	case true:
		return "true"
	case false:
		return "false"
	}
	return "non-boolean"
}
