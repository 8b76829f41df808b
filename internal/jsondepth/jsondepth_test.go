package jsondepth

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestDepth(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want int
	}{
		{"scalar", `1`, 0},
		{"empty object", `{}`, 1},
		{"nested", `{"a":[{"b":[1]}]}`, 4},
		{"siblings do not add", `[[1],[2],[[3]]]`, 3},
		{"brackets in a string", `{"a":"[[[[{{{{"}`, 1},
		{"escaped quote keeps the string open", `["\"[[[["]`, 1},
		{"escaped backslash closes it", `["\\",[[1]]]`, 3},
		{"key with brackets", `{"[[[":{"{{{":1}}`, 2},
		{"unicode escape", `["\u005b",[1]]`, 2},
		{"unterminated string", `["[[[[`, 1},
		{"unbalanced closers", `]]]][[`, 2},
		{"deep", strings.Repeat("[", 1000) + strings.Repeat("]", 1000), 1000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Depth([]byte(tt.in)); got != tt.want {
				t.Fatalf("Depth(%q) = %d, want %d", tt.in, got, tt.want)
			}
			if Exceeds([]byte(tt.in), tt.want) || (tt.want > 0 && !Exceeds([]byte(tt.in), tt.want-1)) {
				t.Fatalf("Exceeds disagrees with depth %d", tt.want)
			}
		})
	}
}

// FuzzDepth compares the count with a decoder's view of any valid JSON.
func FuzzDepth(f *testing.F) {
	for _, s := range []string{`{"a":[1,{"b":"]"}]}`, `["\\\"",[[]]]`, `"x"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var v any
		if json.Unmarshal(b, &v) != nil {
			Exceeds(b, 3) // must not panic on anything
			return
		}
		if got, want := Depth(b), depthOf(v); got != want {
			t.Fatalf("Depth(%q) = %d, decoded depth %d", b, got, want)
		}
	})
}

func depthOf(v any) int {
	d := 0
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			d = max(d, depthOf(e))
		}
		return d + 1
	case map[string]any:
		for _, e := range x {
			d = max(d, depthOf(e))
		}
		return d + 1
	}
	return 0
}
