package pinning

import (
	"strings"
	"testing"
)

func mustTool(t *testing.T, def string) Tool {
	t.Helper()
	tool, err := NewTool([]byte(def))
	if err != nil {
		t.Fatalf("NewTool(%s): %v", def, err)
	}
	return tool
}

func TestNewToolCanonical(t *testing.T) {
	const base = `{"name":"add","description":"Adds <a> & b.","inputSchema":{"type":"object","properties":{"a":{"type":"number","maximum":1.50}}}}`
	tests := []struct {
		name string
		def  string
		same bool
	}{
		{"identical", base, true},
		{"key order and whitespace", "{\n  \"inputSchema\": {\"properties\": {\"a\": {\"maximum\": 1.50, \"type\": \"number\"}}, \"type\": \"object\"},\n  \"description\": \"Adds <a> & b.\",\n  \"name\": \"add\"\n}", true},
		{"escaped string spelling", `{"name":"\u0061dd","description":"Adds \u003ca\u003e \u0026 b.","inputSchema":{"type":"object","properties":{"a":{"type":"number","maximum":1.50}}}}`, true},
		{"fields the model never sees", `{"name":"add","_meta":{"x":1},"icons":[{"src":"a.png"}],"description":"Adds <a> & b.","inputSchema":{"type":"object","properties":{"a":{"type":"number","maximum":1.50}}}}`, true},
		{"null is absent", `{"name":"add","title":null,"description":"Adds <a> & b.","inputSchema":{"type":"object","properties":{"a":{"type":"number","maximum":1.50}}}}`, true},
		{"description changed", strings.Replace(base, "Adds", "Sums", 1), false},
		{"number spelling kept", strings.Replace(base, "1.50", "1.5", 1), false},
		{"title added", strings.Replace(base, `"name":"add"`, `"name":"add","title":"Add"`, 1), false},
	}
	want := mustTool(t, base)
	if !strings.Contains(string(want.Definition), `"maximum":1.50`) || !strings.Contains(string(want.Definition), `<a> & b`) {
		t.Errorf("definition not as written: %s", want.Definition)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mustTool(t, tt.def)
			if (got.SHA256 == want.SHA256) != tt.same {
				t.Errorf("same hash = %v, want %v\n got %s\nwant %s", !tt.same, tt.same, got.Definition, want.Definition)
			}
			if tt.same && string(got.Definition) != string(want.Definition) {
				t.Errorf("definition %s, want %s", got.Definition, want.Definition)
			}
		})
	}
}

func TestNewToolErrors(t *testing.T) {
	for name, def := range map[string]string{
		"invalid JSON":    `{"name":`,
		"not an object":   `["add"]`,
		"no name":         `{"description":"x"}`,
		"empty name":      `{"name":""}`,
		"non-string name": `{"name":7}`,
		"trailing data":   `{"name":"a"} {"name":"b"}`,
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := NewTool([]byte(def)); err == nil {
				t.Errorf("NewTool(%s): no error", def)
			}
		})
	}
}

func TestNewSet(t *testing.T) {
	defs := [][]byte{[]byte(`{"name":"b"}`), []byte(`{"name":"a"}`), []byte(`{"name":"c"}`)}
	s, err := NewSet(defs, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, n := range []string{"a", "b", "c"} {
		if s.Tools[i].Name != n {
			t.Errorf("tool %d = %q, want %q", i, s.Tools[i].Name, n)
		}
		if _, ok := s.Tool(n); !ok {
			t.Errorf("Tool(%q) not found", n)
		}
	}
	if _, ok := s.Tool("d"); ok {
		t.Error("Tool(d) found")
	}
	reordered, _ := NewSet([][]byte{defs[2], defs[0], defs[1]}, nil)
	if reordered.Fingerprint != s.Fingerprint {
		t.Error("fingerprint depends on list order")
	}
	empty, none := "", "be brief"
	withEmpty, _ := NewSet(defs, &empty)
	withText, _ := NewSet(defs, &none)
	if len(map[string]bool{s.Fingerprint: true, withEmpty.Fingerprint: true, withText.Fingerprint: true}) != 3 {
		t.Error("instructions (unpinned, empty, text) do not change the fingerprint")
	}
	changed, _ := NewSet([][]byte{defs[0], defs[1], []byte(`{"name":"c","description":"x"}`)}, nil)
	if changed.Fingerprint == s.Fingerprint {
		t.Error("a changed tool keeps the fingerprint")
	}
	if _, err := NewSet([][]byte{defs[0], []byte(`{"name":"b","description":"twin"}`)}, nil); err == nil || !strings.Contains(err.Error(), "duplicate") {
		t.Errorf("duplicate names: err = %v", err)
	}
	if _, err := NewSet([][]byte{defs[0], []byte(`nope`)}, nil); err == nil {
		t.Error("invalid JSON: no error")
	}
}
