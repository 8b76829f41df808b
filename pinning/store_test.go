package pinning

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// setN is a distinct set per n, so a test can tell whose Pin won.
func setN(t *testing.T, n int) Set {
	t.Helper()
	s, err := NewSet([][]byte{[]byte(fmt.Sprintf(`{"name":"t","description":"version %d <b>"}`, n))}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// testStore runs the Store contract: first Pin wins, even among many
// concurrent callers; Get and Replace; keys are independent.
func testStore(t *testing.T, open func() Store) {
	ctx := context.Background()
	st := open()
	defer st.Close()

	if _, ok, err := st.Get(ctx, "backend:none"); err != nil || ok {
		t.Fatalf("Get of a missing key: ok=%v err=%v", ok, err)
	}

	const writers = 32
	type result struct {
		stored  Set
		created bool
		err     error
	}
	results := make([]result, writers)
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() {
			s, c, err := st.Pin(ctx, "backend:default", setN(t, i))
			results[i] = result{s, c, err}
		})
	}
	wg.Wait()
	created := 0
	var winner string
	for i, r := range results {
		if r.err != nil {
			t.Fatalf("Pin %d: %v", i, r.err)
		}
		if r.created {
			created++
			if r.stored.Fingerprint != setN(t, i).Fingerprint {
				t.Errorf("Pin %d created but returned another set", i)
			}
		}
		if winner == "" {
			winner = r.stored.Fingerprint
		} else if r.stored.Fingerprint != winner {
			t.Errorf("Pin %d returned %s, others %s", i, r.stored.Fingerprint, winner)
		}
	}
	if created != 1 {
		t.Fatalf("%d Pins created, want exactly 1", created)
	}
	got, ok, err := st.Get(ctx, "backend:default")
	if err != nil || !ok || got.Fingerprint != winner {
		t.Fatalf("Get = %v %v %v, want the winner", got.Fingerprint, ok, err)
	}
	// Definitions come back byte for byte, so their hashes still hold.
	if tool, _ := got.Tool("t"); hashHex(tool.Definition) != tool.SHA256 {
		t.Errorf("stored definition %s no longer matches its sha256", tool.Definition)
	}

	if err := st.Replace(ctx, "backend:default", setN(t, 1000)); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := st.Get(ctx, "backend:default"); got.Fingerprint != setN(t, 1000).Fingerprint {
		t.Error("Replace did not replace")
	}
	if s, c, err := st.Pin(ctx, "backend:default", setN(t, 1)); err != nil || c || s.Fingerprint != setN(t, 1000).Fingerprint {
		t.Errorf("Pin after Replace: created=%v err=%v", c, err)
	}
	if _, c, err := st.Pin(ctx, "backend:other/with odd:chars", setN(t, 2)); err != nil || !c {
		t.Errorf("Pin of another key: created=%v err=%v", c, err)
	}
	st.Close()

	// A restart: a new store over the same data keeps the pins.
	st2 := open()
	defer st2.Close()
	if got, ok, err := st2.Get(ctx, "backend:default"); err != nil || !ok || got.Fingerprint != setN(t, 1000).Fingerprint {
		t.Errorf("after reopen: %v %v %v", got.Fingerprint, ok, err)
	}
}

func TestFileStore(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pins")
	testStore(t, func() Store {
		st, err := OpenStore(context.Background(), "file://"+dir)
		if err != nil {
			t.Fatal(err)
		}
		return st
	})
	if m, _ := filepath.Glob(filepath.Join(dir, ".*")); len(m) > 0 {
		t.Errorf("temp files left: %v", m)
	}
}

func TestOpenStore(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		url     string
		wantErr string
	}{
		{dir + "/plain", ""},
		{"file://" + dir + "/url", ""},
		{"file://localhost" + dir + "/local", ""},
		{"file://otherhost/x", `host "otherhost"`},
		{"http://example.com/pins", `unknown scheme "http"`},
		{"", "empty directory"},
		{"redis://127.0.0.1:1/0", "127.0.0.1:1"}, // nothing listens on port 1
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			st, err := OpenStore(context.Background(), tt.url)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				st.Close()
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("err = %v, want %q", err, tt.wantErr)
			}
		})
	}
}
