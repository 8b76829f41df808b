package pinning

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// TestFileStoreProcesses races first Pins from separate processes, as
// gateway replicas sharing a volume would: exactly one may win.
func TestFileStoreProcesses(t *testing.T) {
	dir := t.TempDir()
	const procs = 8
	out := make([]string, procs)
	errs := make([]error, procs)
	var wg sync.WaitGroup
	for i := range procs {
		wg.Go(func() {
			cmd := exec.Command(os.Args[0], "-test.run=^TestFileStoreHelper$")
			cmd.Env = append(os.Environ(), "PINNING_HELPER_DIR="+dir, "PINNING_HELPER_N="+strconv.Itoa(i))
			b, err := cmd.CombinedOutput()
			out[i], errs[i] = string(b), err
		})
	}
	wg.Wait()
	created := 0
	var winner string
	for i := range procs {
		if errs[i] != nil {
			t.Fatalf("helper %d: %v\n%s", i, errs[i], out[i])
		}
		var c bool
		var fp string
		if _, err := fmt.Sscanf(out[i][strings.Index(out[i], "created="):], "created=%t fingerprint=%s", &c, &fp); err != nil {
			t.Fatalf("helper %d output %q: %v", i, out[i], err)
		}
		if c {
			created++
		}
		if winner == "" {
			winner = fp
		} else if fp != winner {
			t.Errorf("helper %d saw %s, others %s", i, fp, winner)
		}
	}
	if created != 1 {
		t.Errorf("%d processes created the pin, want 1", created)
	}
}

// TestFileStoreHelper is one process of TestFileStoreProcesses.
func TestFileStoreHelper(t *testing.T) {
	dir := os.Getenv("PINNING_HELPER_DIR")
	if dir == "" {
		t.Skip("helper process for TestFileStoreProcesses")
	}
	n, _ := strconv.Atoi(os.Getenv("PINNING_HELPER_N"))
	st, err := OpenStore(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	s, created, err := st.Pin(context.Background(), "backend:shared", setN(t, n))
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("created=%t fingerprint=%s\n", created, s.Fingerprint)
}
