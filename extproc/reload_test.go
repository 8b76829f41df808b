package extproc

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
)

func TestReload(t *testing.T) {
	base := "pinning: {disabled: true}\nmode: active\nbackends:\n  default:\n    allowed_tools: [echo]\n"
	srv, err := NewServer(context.Background(), *parseTestPolicy(t, base), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	// open starts a stream the way Process does and reports whether a
	// tools/call of add is refused in it.
	open := func() *stream {
		snap := srv.cur.Load()
		return newStream("r", discardLogger(), &snap.policy, snap.scanner, DefaultBackend)
	}
	refusesAdd := func(st *stream) bool {
		r, err := st.handle(context.Background(), reqBody(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"add"}}`))
		if err != nil {
			t.Fatal(err)
		}
		return r.GetImmediateResponse() != nil
	}
	before := open()

	steps := []struct {
		name      string
		yaml      string
		wantErr   string // empty: the reload applies
		wantRefus bool   // a new stream refuses add afterwards
	}{
		{"allow add", strings.Replace(base, "[echo]", "[echo, add]", 1), "", false},
		{"invalid YAML keeps the last good", "mode: [", "decode", false},
		{"unknown key keeps the last good", base + "allowed_tools: [x]\n", "field allowed_tools not found", false},
		{"pin store needs a restart", "mode: active\n", "restart mcpgate to apply: pinning.disabled changed", false},
		{"larger bodies need a restart", base + "max_body_bytes: 99999999\n", "max_body_bytes 99999999 is over the 4194304", false},
		{"smaller bodies apply", base + "max_body_bytes: 1000\n", "", true},
		{"passive", strings.Replace(base, "mode: active", "mode: passive", 1), "", false},
	}
	for _, step := range steps {
		t.Run(step.name, func(t *testing.T) {
			p, err := ParsePolicy([]byte(step.yaml))
			if err == nil {
				err = srv.Reload(p)
			}
			if (err == nil) != (step.wantErr == "") || (err != nil && !strings.Contains(err.Error(), step.wantErr)) {
				t.Fatalf("reload error %v, want %q", err, step.wantErr)
			}
			if got := refusesAdd(open()); got != step.wantRefus {
				t.Errorf("new stream refuses add: %v, want %v", got, step.wantRefus)
			}
		})
	}
	// The stream opened before any reload keeps its policy.
	if !refusesAdd(before) {
		t.Error("a stream opened before the reloads changed policy mid-stream")
	}
}

func TestWatchedFiles(t *testing.T) {
	p := parseTestPolicy(t, "auth:\n  tokens:\n  - {name: a, sha256: "+sha("x")+", audiences: [a]}\nbackends:\n"+
		"  a:\n    lockfile: /pins/a.json\n    auth:\n      backend_credential: {file: /secrets/a}\n"+
		"  b:\n    lockfile: /pins/a.json\n    auth:\n      backend_credential: {env: B}\n")
	got := strings.Join(p.WatchedFiles(), " ")
	if got != "/pins/a.json /secrets/a" {
		t.Errorf("WatchedFiles = %s", got)
	}
}
