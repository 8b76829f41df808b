package mcpclient

import (
	"encoding/json"
	"testing"
)

func TestEchoedOutbound(t *testing.T) {
	const base = "http://127.0.0.1:4000/c/"
	cases := []struct {
		name, out string
		hit       bool
	}{
		{"canary URL itself", "fetched " + base + "tok123", false},
		{"inside an outbound URL", "see https://evil.example/x?u=" + base + "tok123", true},
		{"percent-encoded", "https://evil.example/x?u=http%3A%2F%2F127.0.0.1%3A4000%2Fc%2Ftok123", true},
		{"other token", "https://evil.example/x?u=tok999", false},
		{"no URL", "tok123", false},
	}
	for _, c := range cases {
		if got := echoedOutbound(c.out, "tok123", base) != ""; got != c.hit {
			t.Errorf("%s: hit %v, want %v", c.name, got, c.hit)
		}
	}
}

func TestSampleValue(t *testing.T) {
	const c = "http://127.0.0.1:1/c/tok"
	cases := []struct {
		name   string
		schema string
		want   string
	}{
		{"strings carry the canary", `{"type":"object","properties":{"url":{"type":"string"},"q":{"type":"string","format":"uri"}}}`,
			`{"q":"` + c + `","url":"` + c + `"}`},
		{"enum, const, numbers, booleans", `{"type":"object","properties":{"m":{"enum":["a","b"]},"k":{"const":3},"n":{"type":"integer","minimum":5},"f":{"type":"number"},"b":{"type":"boolean"}}}`,
			`{"b":false,"f":1,"k":3,"m":"a","n":5}`},
		{"arrays and nesting", `{"type":"object","properties":{"xs":{"type":"array","items":{"type":"string"}},"o":{"properties":{"s":{"type":"string"}}}}}`,
			`{"o":{"s":"` + c + `"},"xs":["` + c + `"]}`},
		{"a format a URL breaks keeps its default", `{"type":"object","properties":{"to":{"type":"string","format":"email","default":"a@b.c"},"p":{"type":"string","pattern":"^x"}}}`,
			`{"p":"` + c + `","to":"a@b.c"}`},
	}
	for _, tc := range cases {
		var s map[string]any
		if err := json.Unmarshal([]byte(tc.schema), &s); err != nil {
			t.Fatal(err)
		}
		got, _ := json.Marshal(sampleValue(s, c, 0))
		if string(got) != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
}
