package pinning

import (
	"encoding/json"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// schemaWalk compares two input schemas and tells widening (the tool now
// accepts more: new parameters, fewer required, looser types, more enum
// values, lost limits) from other changes. A widened schema is how a rug
// pull adds an exfiltration channel ("cc", "debug_url") to a trusted tool.
// Parameter descriptions count as descriptions: the model reads them.
type schemaWalk struct {
	tool    string
	changes []Change
}

func (w *schemaWalk) add(k Kind, format string, args ...any) {
	w.changes = append(w.changes, newChange(k, w.tool, format, args...))
}

// upper and lower limits: losing one or moving it outwards widens.
var (
	upperLimits = []string{"maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties"}
	lowerLimits = []string{"minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties"}
	// otherLimits can only be compared as present or not.
	otherLimits = []string{"pattern", "format", "multipleOf", "const", "propertyNames", "uniqueItems"}
)

// handled reports whether diff looks into keyword k; a change anywhere
// else is reported as a plain schema change.
func handled(k string) bool {
	switch k {
	case "description", "title", "type", "enum", "properties", "required",
		"additionalProperties", "items", "anyOf", "oneOf", "allOf":
		return true
	}
	return slices.Contains(upperLimits, k) || slices.Contains(lowerLimits, k) || slices.Contains(otherLimits, k)
}

// diff compares the schemas o and c found at path ("" for the root,
// "opts.cc" for a nested property, "files[]" for array items).
func (w *schemaWalk) diff(path string, o, c any) {
	if path == "" { // a missing input schema constrains nothing, like {}
		if o == nil {
			o = map[string]any{}
		}
		if c == nil {
			c = map[string]any{}
		}
	}
	if reflect.DeepEqual(o, c) {
		return
	}
	om, oObj := o.(map[string]any)
	cm, cObj := c.(map[string]any)
	if !oObj || !cObj {
		// true and {} accept anything; false accepts nothing.
		switch {
		case acceptsAnything(c):
			w.add(SchemaWidened, "%s now accepts anything", where(path))
		case c == false:
			w.add(SchemaChanged, "%s now accepts nothing", where(path))
		case acceptsAnything(o):
			w.add(SchemaChanged, "%s now constrained", where(path))
		default:
			w.add(SchemaChanged, "%s changed", where(path))
		}
		return
	}
	if !reflect.DeepEqual(om["description"], cm["description"]) {
		w.add(DescriptionChanged, "%s description %s", where(path), textChange(str(om["description"]), str(cm["description"])))
	}
	if !reflect.DeepEqual(om["title"], cm["title"]) {
		w.add(SchemaChanged, "%s title %s", where(path), textChange(str(om["title"]), str(cm["title"])))
	}
	w.types(path, om["type"], cm["type"])
	w.enum(path, om["enum"], cm["enum"])
	w.limits(path, om, cm)
	w.properties(path, om, cm)
	w.additional(path, om["additionalProperties"], cm["additionalProperties"])
	w.items(path, om["items"], cm["items"])
	w.alternatives(path, om, cm)

	var other []string
	for _, k := range unionKeys(om, cm) {
		if !handled(k) && !reflect.DeepEqual(om[k], cm[k]) {
			other = append(other, quote(k))
		}
	}
	if len(other) > 0 {
		w.add(SchemaChanged, "%s changed %s", where(path), strings.Join(other, ", "))
	}
}

func (w *schemaWalk) types(path string, o, c any) {
	if reflect.DeepEqual(o, c) {
		return
	}
	os, cs := typeSet(o), typeSet(c)
	switch {
	case cs == nil:
		w.add(SchemaWidened, "%s type %s→any", where(path), typeText(o))
	case os == nil:
		w.add(SchemaChanged, "%s type any→%s", where(path), typeText(c))
	case !covers(os, cs):
		w.add(SchemaWidened, "%s type %s→%s", where(path), typeText(o), typeText(c))
	default:
		w.add(SchemaChanged, "%s type %s→%s", where(path), typeText(o), typeText(c))
	}
}

// covers reports whether every type in cs was already accepted by os; an
// integer is a number.
func covers(os, cs map[string]bool) bool {
	for t := range cs {
		if !os[t] && !(t == "integer" && os["number"]) {
			return false
		}
	}
	return true
}

func (w *schemaWalk) enum(path string, o, c any) {
	if reflect.DeepEqual(o, c) {
		return
	}
	oa, oOK := o.([]any)
	ca, cOK := c.([]any)
	switch {
	case !cOK:
		w.add(SchemaWidened, "%s no longer limited to listed values", where(path))
	case !oOK:
		w.add(SchemaChanged, "%s now limited to listed values", where(path))
	default:
		if added := missing(ca, oa); added > 0 {
			w.add(SchemaWidened, "%s accepts %d new value(s)", where(path), added)
		}
		if removed := missing(oa, ca); removed > 0 {
			w.add(SchemaChanged, "%s no longer accepts %d value(s)", where(path), removed)
		}
	}
}

// missing counts the values of a not in b.
func missing(a, b []any) int {
	n := 0
	for _, v := range a {
		if !slices.ContainsFunc(b, func(x any) bool { return reflect.DeepEqual(x, v) }) {
			n++
		}
	}
	return n
}

func (w *schemaWalk) limits(path string, o, c map[string]any) {
	bound := func(keys []string, looser func(was, now float64) bool) {
		for _, k := range keys {
			ov, had := o[k]
			cv, has := c[k]
			switch {
			case reflect.DeepEqual(ov, cv):
			case had && !has:
				w.add(SchemaWidened, "%s lost its %s", where(path), k)
			case !had:
				w.add(SchemaChanged, "%s gained a %s", where(path), k)
			default:
				was, ok1 := number(ov)
				now, ok2 := number(cv)
				if ok1 && ok2 && looser != nil && looser(was, now) {
					w.add(SchemaWidened, "%s %s %v→%v", where(path), k, ov, cv)
				} else if !ok1 || !ok2 || was != now {
					w.add(SchemaChanged, "%s %s changed", where(path), k)
				}
			}
		}
	}
	bound(upperLimits, func(was, now float64) bool { return now > was })
	bound(lowerLimits, func(was, now float64) bool { return now < was })
	bound(otherLimits, nil)
}

func (w *schemaWalk) properties(path string, o, c map[string]any) {
	op, cp := obj(o["properties"]), obj(c["properties"])
	for _, k := range unionKeys(op, cp) {
		ov, had := op[k]
		cv, has := cp[k]
		switch {
		case !had:
			w.add(SchemaWidened, "new parameter %s", quote(join(path, k)))
		case !has:
			w.add(SchemaChanged, "parameter %s removed", quote(join(path, k)))
		default:
			w.diff(join(path, k), ov, cv)
		}
	}
	or, cr := stringSet(o["required"]), stringSet(c["required"])
	for _, k := range unionKeys(or, cr) {
		switch {
		case or[k] && !cr[k]:
			w.add(SchemaWidened, "parameter %s no longer required", quote(join(path, k)))
		case !or[k] && cr[k]:
			w.add(SchemaChanged, "parameter %s now required", quote(join(path, k)))
		}
	}
}

func (w *schemaWalk) additional(path string, o, c any) {
	switch {
	case reflect.DeepEqual(o, c):
	case o == false:
		w.add(SchemaWidened, "%s now allows additional parameters", where(path))
	case c == false:
		w.add(SchemaChanged, "%s no longer allows additional parameters", where(path))
	case o == nil || o == true:
		w.add(SchemaChanged, "%s additional parameters now constrained", where(path))
	default:
		w.diff(join(path, "*"), o, c)
	}
}

func (w *schemaWalk) items(path string, o, c any) {
	switch {
	case reflect.DeepEqual(o, c):
	case c == nil:
		w.add(SchemaWidened, "%s items no longer constrained", where(path))
	case o == nil:
		w.add(SchemaChanged, "%s items now constrained", where(path))
	default:
		w.diff(path+"[]", o, c)
	}
}

// alternatives: a new anyOf/oneOf branch or a dropped allOf branch lets
// more through; the reverse lets less.
func (w *schemaWalk) alternatives(path string, o, c map[string]any) {
	for _, k := range []string{"anyOf", "oneOf", "allOf"} {
		ov, cv := o[k], c[k]
		if reflect.DeepEqual(ov, cv) {
			continue
		}
		oa, _ := ov.([]any)
		ca, _ := cv.([]any)
		more, less := missing(ca, oa), missing(oa, ca) // new and dropped branches
		if k == "allOf" {                              // every branch must hold
			more, less = less, more
		}
		switch {
		case cv == nil:
			w.add(SchemaWidened, "%s no longer restricted by %s", where(path), k)
		case ov == nil:
			w.add(SchemaChanged, "%s now restricted by %s", where(path), k)
		default:
			if more > 0 {
				w.add(SchemaWidened, "%s %s accepts more (%d branch(es))", where(path), k, more)
			}
			if less > 0 {
				w.add(SchemaChanged, "%s %s accepts less (%d branch(es))", where(path), k, less)
			}
		}
	}
}

// where names the schema at path for a detail.
func where(path string) string {
	if path == "" {
		return "input schema"
	}
	return quote(path)
}

func join(path, k string) string {
	if path == "" {
		return k
	}
	return path + "." + k
}

func acceptsAnything(v any) bool {
	if v == true {
		return true
	}
	m, ok := v.(map[string]any)
	return ok && len(m) == 0
}

// typeSet returns the types a "type" keyword allows, nil for any.
func typeSet(v any) map[string]bool {
	switch t := v.(type) {
	case string:
		return map[string]bool{t: true}
	case []any:
		s := stringSet(t)
		if len(s) == 0 {
			return nil
		}
		return s
	}
	return nil
}

func typeText(v any) string {
	s := typeSet(v)
	if s == nil {
		return "any"
	}
	ts := make([]string, 0, len(s))
	for t := range s {
		ts = append(ts, t)
	}
	slices.Sort(ts)
	return strings.Join(ts, "|")
}

func number(v any) (float64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	f, err := strconv.ParseFloat(string(n), 64)
	return f, err == nil
}

func stringSet(v any) map[string]bool {
	out := map[string]bool{}
	if a, ok := v.([]any); ok {
		for _, x := range a {
			if s, ok := x.(string); ok {
				out[s] = true
			}
		}
	}
	return out
}

func unionKeys[V any](a, b map[string]V) []string {
	ks := make([]string, 0, len(a)+len(b))
	for k := range a {
		ks = append(ks, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			ks = append(ks, k)
		}
	}
	slices.Sort(ks)
	return ks
}
