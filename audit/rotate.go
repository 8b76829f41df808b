package audit

import (
	"fmt"
	"os"
	"sync"
)

// RotatingFile is an append-only file that, before a write would take it
// past maxBytes, is renamed to NAME.1 (older copies shift to NAME.2 …
// NAME.<backups>, the oldest is removed) and started afresh. Each audit
// line is one Write, so a line is never split between files.
type RotatingFile struct {
	name     string
	maxBytes int64
	backups  int

	mu   sync.Mutex
	f    *os.File
	size int64
}

// OpenRotating opens (appending to) or creates name, rotating it past
// maxBytes and keeping backups older copies.
func OpenRotating(name string, maxBytes int64, backups int) (*RotatingFile, error) {
	r := &RotatingFile{name: name, maxBytes: maxBytes, backups: backups}
	if err := r.open(); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *RotatingFile) open() error {
	f, err := os.OpenFile(r.name, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("audit file: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("audit file: %w", err)
	}
	r.f, r.size = f, st.Size()
	return nil
}

func (r *RotatingFile) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.size > 0 && r.size+int64(len(p)) > r.maxBytes {
		if err := r.rotate(); err != nil {
			return 0, err
		}
	}
	n, err := r.f.Write(p)
	r.size += int64(n)
	return n, err
}

func (r *RotatingFile) rotate() error {
	if err := r.f.Close(); err != nil {
		return fmt.Errorf("audit file: close: %w", err)
	}
	if r.backups < 1 {
		if err := os.Remove(r.name); err != nil {
			return fmt.Errorf("audit file: %w", err)
		}
		return r.open()
	}
	for i := r.backups - 1; i >= 1; i-- {
		// A missing older copy is normal until the file has rotated often.
		if err := os.Rename(fmt.Sprintf("%s.%d", r.name, i), fmt.Sprintf("%s.%d", r.name, i+1)); err != nil && !os.IsNotExist(err) {
			return fmt.Errorf("audit file: %w", err)
		}
	}
	if err := os.Rename(r.name, r.name+".1"); err != nil {
		return fmt.Errorf("audit file: %w", err)
	}
	return r.open()
}

func (r *RotatingFile) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.f.Close()
}
