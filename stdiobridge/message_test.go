package stdiobridge

import (
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
)

func TestIDKey(t *testing.T) {
	tests := []struct {
		raw     string
		want    idKey
		wantErr bool
	}{
		{`1`, "n:1", false},
		{`"1"`, "s:1", false},
		{`1.0`, "n:1", false},
		{`1e2`, "n:100", false},
		{`-7`, "n:-7", false},
		{`9007199254740993`, "n:9007199254740993", false}, // past float64's integers: kept exact
		{`1.5`, "n:1.5", false},
		{`"a\u0062"`, "s:ab", false},
		{`null`, "", false},
		{``, "", false},
		{`{}`, "", true},
		{`true`, "", true},
	}
	for _, tt := range tests {
		got, err := makeIDKey([]byte(tt.raw))
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("makeIDKey(%s) = %q, %v; want %q, error %v", tt.raw, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestParseMessage(t *testing.T) {
	tests := []struct {
		name     string
		raw      string
		kind     kind
		progress idKey
		cancels  idKey
	}{
		{"request", `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`, kindRequest, "", ""},
		{"request with progress token", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"_meta":{"progressToken":"p"}}}`, kindRequest, "s:p", ""},
		{"notification", `{"jsonrpc":"2.0","method":"notifications/initialized"}`, kindNotification, "", ""},
		{"progress", `{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":3,"progress":1}}`, kindNotification, "n:3", ""},
		{"cancelled", `{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"r"}}`, kindNotification, "", "s:r"},
		{"result", `{"jsonrpc":"2.0","id":"x","result":{}}`, kindResponse, "", ""},
		{"null result", `{"jsonrpc":"2.0","id":"x","result":null}`, kindResponse, "", ""},
		{"error", `{"jsonrpc":"2.0","id":2,"error":{"code":-1,"message":"m"}}`, kindResponse, "", ""},
		{"neither", `{"jsonrpc":"2.0","id":2}`, kindInvalid, "", ""},
		{"bad id", `{"jsonrpc":"2.0","id":[1],"method":"x"}`, kindInvalid, "", ""},
		{"not an object", `"x"`, kindInvalid, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := parseMessage([]byte(tt.raw))
			if tt.kind == kindInvalid {
				if err == nil {
					t.Errorf("parsed as %v, want an error", m.kind)
				}
				return
			}
			if err != nil || m.kind != tt.kind || m.progress != tt.progress || m.cancels != tt.cancels || string(m.raw) != tt.raw {
				t.Errorf("%+v, %v; want kind %v progress %q cancels %q", m, err, tt.kind, tt.progress, tt.cancels)
			}
		})
	}
}

func TestSplitBodyKeepsElementBytes(t *testing.T) {
	a, b := `{"jsonrpc":"2.0", "id":1, "method":"a"}`, `{ "jsonrpc":"2.0","method":"b" }`
	msgs, batch, err := splitBody([]byte("[" + a + " ,\t" + b + "]"))
	if err != nil || !batch || len(msgs) != 2 || string(msgs[0].raw) != a || string(msgs[1].raw) != b {
		t.Fatalf("%v %v %+v", batch, err, msgs)
	}
	for _, bad := range []string{"", "[]", "[1]", `[{"id":1}]`} {
		if _, _, err := splitBody([]byte(bad)); err == nil {
			t.Errorf("splitBody(%q) accepted", bad)
		}
	}
}

func TestOneLine(t *testing.T) {
	tests := []struct{ in, want string }{
		{`{"a": "x y", "b":[1, 2]}`, `{"a": "x y", "b":[1, 2]}`}, // one line already: unchanged, spaces kept
		{"{\n  \"a\": \"x\\ny\",\r\n  \"b\": 1\n}", `{"a":"x\ny","b":1}`},
	}
	for _, tt := range tests {
		got, err := oneLine([]byte(tt.in))
		if err != nil || string(got) != tt.want {
			t.Errorf("oneLine(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	if _, err := oneLine([]byte("{\n\"a\":")); err == nil {
		t.Error("a broken multi-line body was accepted")
	}
}

// slowReader hands out n bytes per Read.
type slowReader struct {
	s string
	n int
}

func (r *slowReader) Read(p []byte) (int, error) {
	if r.s == "" {
		return 0, io.EOF
	}
	k := min(r.n, len(p), len(r.s))
	copy(p, r.s[:k])
	r.s = r.s[k:]
	return k, nil
}

func TestReadLines(t *testing.T) {
	long := strings.Repeat("x", 100)
	in := "a\r\n\n  \nb\n" + long + "\nc\r\nd"
	for _, chunk := range []int{1, 3, 7, 1 << 20} {
		var got []string
		readLines(&slowReader{in, chunk}, 50, func() *slog.Logger { return slog.New(slog.DiscardHandler) },
			func(l []byte) { got = append(got, string(l)) })
		if want := []string{"a", "b", "c", "d"}; !slices.Equal(got, want) {
			t.Errorf("chunks of %d: %q, want %q (blank and over-long lines dropped)", chunk, got, want)
		}
	}
}

func TestMailboxOverflow(t *testing.T) {
	m := newMailbox(2)
	if !m.put([]byte("1")) || !m.put([]byte("2")) || m.put([]byte("3")) {
		t.Fatal("want two puts, then overflow")
	}
	if m.put([]byte("4")) {
		t.Error("put after overflow accepted")
	}
	if left := m.drain(); len(left) != 2 {
		t.Errorf("drain = %q", left)
	}
}
