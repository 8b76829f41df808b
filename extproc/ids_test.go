package extproc

import "testing"

// TestPairing: ids are compared as the SDKs compare them; a response whose
// id only a lenient SDK would match, or that several requests match, is
// ambiguous and gets every check.
func TestPairing(t *testing.T) {
	tests := []struct {
		requests []string
		response string
		want     pairing
		method   string
	}{
		{[]string{"1"}, "1", paired, "tools/call"},
		{[]string{"1"}, "1.0", paired, "tools/call"},
		{[]string{"1"}, "1e0", paired, "tools/call"},
		{[]string{"1"}, "10e-1", paired, "tools/call"},
		{[]string{"1.0"}, "1", paired, "tools/call"},
		{[]string{"-0"}, "0", paired, "tools/call"},
		{[]string{"1"}, "1.5", ambiguous, ""}, // go-sdk truncates to 1
		{[]string{"1"}, `"1"`, ambiguous, ""}, // a lax client may coerce
		{[]string{`"1"`}, "1", ambiguous, ""}, // and the other way round
		{[]string{`"a"`}, `"\u0061"`, paired, "tools/call"},
		{[]string{"1"}, "2", unpaired, ""},
		{[]string{"1"}, "0.9", unpaired, ""}, // truncates to 0
		{[]string{"1"}, "null", unpaired, ""},
		{[]string{"1", `"1"`}, `"1"`, ambiguous, ""},
		{[]string{"1", `"1"`}, `1`, ambiguous, ""},
		{[]string{"9007199254740992"}, "9007199254740993", ambiguous, ""}, // one float64
		{[]string{"9007199254740993"}, "9007199254740993", paired, "tools/call"},
		{[]string{"1"}, "1e999999999", unpaired, ""}, // not normalised: never matches
	}
	for _, tt := range tests {
		s := newStream("t", discardLogger(), testPolicy(Active), nil, DefaultBackend)
		for _, id := range tt.requests {
			s.remember(id, call{method: "tools/call"})
		}
		c, how := s.pair(tt.response)
		if how != tt.want || c.method != tt.method {
			t.Errorf("requests %v, response %s: %v %q, want %v %q", tt.requests, tt.response, how, c.method, tt.want, tt.method)
		}
	}
}
