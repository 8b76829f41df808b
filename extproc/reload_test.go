package extproc

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/grpc"

	"github.com/mcpgate/mcpgate/pinning"
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

// liveStream feeds one Server.Process call message by message, so a test
// can hold a stream open across a reload, as Envoy does.
type liveStream struct {
	grpc.ServerStream
	in  chan *extprocv3.ProcessingRequest
	out chan *extprocv3.ProcessingResponse
}

func openLive(t *testing.T, srv *Server) *liveStream {
	t.Helper()
	l := &liveStream{in: make(chan *extprocv3.ProcessingRequest), out: make(chan *extprocv3.ProcessingResponse)}
	done := make(chan error, 1)
	go func() { done <- srv.Process(l) }()
	t.Cleanup(func() {
		close(l.in)
		if err := <-done; err != nil {
			t.Errorf("Process: %v", err)
		}
	})
	// The first message is what makes Process take its snapshot.
	l.step(t, reqBody(listReq))
	return l
}

func (l *liveStream) Context() context.Context { return context.Background() }

func (l *liveStream) Recv() (*extprocv3.ProcessingRequest, error) {
	r, ok := <-l.in
	if !ok {
		return nil, io.EOF
	}
	return r, nil
}

func (l *liveStream) Send(r *extprocv3.ProcessingResponse) error {
	l.out <- r
	return nil
}

func (l *liveStream) step(t *testing.T, r *extprocv3.ProcessingRequest) *extprocv3.ProcessingResponse {
	t.Helper()
	l.in <- r
	return <-l.out
}

// listAnswer sends the tools/list response and returns what the client gets.
func (l *liveStream) listAnswer(t *testing.T, tools ...string) string {
	t.Helper()
	body := strings.Replace(listResult, "%s", strings.Join(tools, ","), 1)
	l.step(t, respHeaders(":status", "200", "content-type", "application/json"))
	if b, ok := replaced(l.step(t, respBody(body, true))); ok {
		return string(b)
	}
	return body
}

func writeLock(t *testing.T, tools ...string) string {
	t.Helper()
	var defs [][]byte
	for _, tl := range tools {
		defs = append(defs, []byte(tl))
	}
	set, err := pinning.NewSet(defs, nil)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "mcpgate.lock.json")
	if err := pinning.WriteLockfile(file, pinning.Lockfile{Version: 1, Server: "test", Set: set}); err != nil {
		t.Fatal(err)
	}
	return file
}

// TestReloadOpenStreamKeepsPins: a stream opened before a reload keeps the
// lockfiles and drift threshold it started with; streams opened after it
// get the new ones.
func TestReloadOpenStreamKeepsPins(t *testing.T) {
	lockAdd, lockPulled := writeLock(t, addTool), writeLock(t, addPulled)
	policy := func(lockfile, severity string) Policy {
		p, err := ParsePolicy([]byte("mode: active\ndetectors: {disabled: true}\npinning: {store: " + t.TempDir() +
			", drift_severity: " + severity + "}\nbackends:\n  default: {lockfile: " + lockfile + "}\n"))
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	cases := []struct {
		name          string
		before, after Policy
		served        []string
		tool          string // kept by the old stream, hidden by a new one
	}{
		{"lockfile", policy(lockAdd, "medium"), policy(lockPulled, "medium"), []string{addTool}, `"name":"add"`},
		{"drift_severity", policy(lockAdd, "medium"), policy(lockAdd, "low"), []string{addTool, extraTool}, `"name":"extra"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.after.Pinning.Store = c.before.Pinning.Store // the store needs a restart
			srv, err := NewServer(context.Background(), c.before, discardLogger())
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Close()
			old := openLive(t, srv)
			if err := srv.Reload(c.after); err != nil {
				t.Fatal(err)
			}
			if got := old.listAnswer(t, c.served...); !strings.Contains(got, c.tool) {
				t.Errorf("stream opened before the reload used the new pins: %s", got)
			}
			if got := openLive(t, srv).listAnswer(t, c.served...); strings.Contains(got, c.tool) {
				t.Errorf("stream opened after the reload kept the old pins: %s", got)
			}
		})
	}
}

// TestReloadRescoresWithNewRules: the score board grades with the scanner
// of the policy in force, so disabling rules on reload changes the next
// grade, with content scanning on or off.
func TestReloadRescoresWithNewRules(t *testing.T) {
	// The rules poisonedTools trips; without them it scores 100.
	rules := "[injection.important_tag, poisoning.model_directive, exfiltration.sensitive_file, poisoning.file_param, injection.conceal]"
	for _, scanning := range []string{"false", "true"} {
		t.Run("detectors.disabled "+scanning, func(t *testing.T) {
			base := "mode: passive\npinning: {disabled: true}\ndetectors: {disabled: " + scanning + "}\n"
			srv, err := NewServer(context.Background(), *parseTestPolicy(t, base), discardLogger())
			if err != nil {
				t.Fatal(err)
			}
			scoreAfterList := func() int {
				openLive(t, srv).listAnswer(t, poisonedTools)
				return srv.Scores()[DefaultBackend].Score
			}
			if got := scoreAfterList(); got != 69 {
				t.Fatalf("score before the reload %d, want 69", got)
			}
			after := strings.Replace(base, "detectors: {disabled: "+scanning+"}", "detectors: {disabled: "+scanning+", disabled_rules: "+rules+"}", 1)
			if err := srv.Reload(*parseTestPolicy(t, after)); err != nil {
				t.Fatal(err)
			}
			if got := scoreAfterList(); got != 100 {
				t.Errorf("score after disabling the rules %d, want 100", got)
			}
		})
	}
}
