package main

import (
	"context"
	"crypto/sha256"
	"log/slog"
	"os"
	"time"

	"github.com/mcpgate/mcpgate/extproc"
)

// watchPolicy reloads the policy when --config, or a file it names (a
// lockfile, a backend credential), changes; new streams get the new
// policy, open ones keep theirs. It polls contents instead of using
// inotify: a Kubernetes ConfigMap or Secret update swaps a symlink in the
// parent directory, which a watch on the file itself never sees, and
// reading a few small files every couple of seconds costs nothing. An
// invalid edit is logged once and the last good policy stays.
func watchPolicy(ctx context.Context, f serveFlags, proc *extproc.Server, log *slog.Logger) {
	last := digestFiles(append([]string{f.config}, proc.Policy().WatchedFiles()...))
	tick := time.NewTicker(f.reload)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		d := digestFiles(append([]string{f.config}, proc.Policy().WatchedFiles()...))
		if d == last {
			continue
		}
		last = d
		p, err := loadPolicy(f)
		if err == nil {
			err = proc.Reload(p)
		}
		if err != nil {
			log.Error("policy reload rejected; keeping the last good policy", "config", f.config, "err", err)
			continue
		}
		log.Info("policy reloaded", "config", f.config, "mode", p.Mode, "backends", len(p.Backends))
	}
}

// digestFiles hashes the names and contents of files; a missing or
// unreadable file hashes as such, so its return is a change too.
func digestFiles(files []string) [sha256.Size]byte {
	h := sha256.New()
	for _, name := range files {
		h.Write([]byte(name + "\x00"))
		if b, err := os.ReadFile(name); err != nil {
			h.Write([]byte("\x01unreadable\x00"))
		} else {
			h.Write(b)
		}
		h.Write([]byte{0})
	}
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	return sum
}
