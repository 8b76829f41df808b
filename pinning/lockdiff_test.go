package pinning

import (
	"fmt"
	"testing"
)

func TestDiffLockfiles(t *testing.T) {
	tools := func(defs ...string) Set {
		var raw [][]byte
		for _, d := range defs {
			raw = append(raw, []byte(d))
		}
		s, err := NewSet(raw, nil)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	prompts := func(desc string) *Set {
		s, err := NewEntrySet([][]byte{[]byte(`{"name":"p","description":"` + desc + `"}`)}, PromptFields)
		if err != nil {
			t.Fatal(err)
		}
		return &s
	}
	a := `{"name":"a","description":"A.","inputSchema":{"type":"object"}}`
	b := `{"name":"b","description":"B.","inputSchema":{"type":"object"}}`
	cases := []struct {
		name     string
		old, cur Lockfile
		want     string // kind:tool of each change
		same     bool
	}{
		{"equal", Lockfile{Set: tools(a), Prompts: prompts("x")}, Lockfile{Set: tools(a), Prompts: prompts("x")}, "[]", true},
		{"tool added", Lockfile{Set: tools(a)}, Lockfile{Set: tools(a, b)}, "[tool_added:b]", false},
		{"prompt changed, prefixed", Lockfile{Set: tools(a), Prompts: prompts("x")}, Lockfile{Set: tools(a), Prompts: prompts("y")}, "[description_changed:prompt:p]", false},
		{"prompts listed on one side only", Lockfile{Set: tools(a)}, Lockfile{Set: tools(a), Prompts: prompts("y")}, "[]", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var got []string
			for _, ch := range DiffLockfiles(c.old, c.cur) {
				got = append(got, string(ch.Kind)+":"+ch.Tool)
			}
			if fmt.Sprint(got) != c.want && !(got == nil && c.want == "[]") {
				t.Errorf("changes %v, want %s", got, c.want)
			}
			if SamePins(c.old, c.cur) != c.same {
				t.Errorf("SamePins %v, want %v", !c.same, c.same)
			}
		})
	}
}
