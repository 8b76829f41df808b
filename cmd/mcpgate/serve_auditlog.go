package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	auditlog "github.com/mcpgate/mcpgate/audit"
)

// auditFlags say where `serve` writes the audit trail.
type auditFlags struct {
	file    string
	maxMB   int
	backups int
}

func (a *auditFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&a.file, "audit-log", "-", `audit trail: "-" for stdout, or a file rotated by size`)
	fs.IntVar(&a.maxMB, "audit-log-max-mb", 100, "rotate the audit file before it grows past this many MiB")
	fs.IntVar(&a.backups, "audit-log-backups", 5, "rotated audit files kept (FILE.1 newest)")
}

// open returns the audit output; Close does not close stdout.
func (a *auditFlags) open(stdout io.Writer) (io.WriteCloser, error) {
	if a.file == "-" || a.file == "" {
		return nopCloser{stdout}, nil
	}
	if a.maxMB < 1 || a.backups < 0 {
		return nil, fmt.Errorf("--audit-log-max-mb %d, --audit-log-backups %d: want at least 1 and 0", a.maxMB, a.backups)
	}
	return auditlog.OpenRotating(a.file, int64(a.maxMB)<<20, a.backups)
}

// reportingWriter logs audit write failures, which slog would otherwise
// drop silently, at most once per auditErrorEvery.
type reportingWriter struct {
	w    io.Writer
	log  *slog.Logger
	mu   sync.Mutex
	last time.Time
}

const auditErrorEvery = 10 * time.Second

func (r *reportingWriter) Write(p []byte) (int, error) {
	n, err := r.w.Write(p)
	if err != nil {
		r.mu.Lock()
		if now := time.Now(); now.Sub(r.last) >= auditErrorEvery {
			r.last = now
			r.log.Error("audit trail write failed: records are being lost", "err", err)
		}
		r.mu.Unlock()
	}
	return n, err
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }
