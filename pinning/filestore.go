package pinning

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// FileStore keeps one JSON file per key in a directory. It survives
// restarts and is safe for concurrent writers, also in other processes
// sharing the directory: Pin writes a complete temp file and hard-links it
// to the key's name, which fails if that name exists, so exactly one
// first writer wins and no reader sees a partial file; Replace writes a
// temp file and renames it over the key's file.
type FileStore struct{ dir string }

func openFileStore(dir string) (*FileStore, error) {
	if dir == "" {
		return nil, errors.New("pin store: empty directory")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("pin store: %w", err)
	}
	return &FileStore{dir: dir}, nil
}

// path names a key's file by a hash, so any key (backend names, URLs) is
// a safe file name.
func (f *FileStore) path(key string) string {
	sum := sha256.Sum256([]byte(key))
	return filepath.Join(f.dir, hex.EncodeToString(sum[:16])+".json")
}

// storedSet keeps the key beside the set so a pin file can be traced to
// its backend by whoever looks in the directory.
type storedSet struct {
	Key string `json:"key"`
	Set
}

// Pin implements [Store.Pin].
func (f *FileStore) Pin(ctx context.Context, key string, s Set) (Set, bool, error) {
	if err := ctx.Err(); err != nil {
		return Set{}, false, fmt.Errorf("pin %s: %w", key, err)
	}
	data, err := marshal(storedSet{Key: key, Set: s})
	if err != nil {
		return Set{}, false, fmt.Errorf("pin %s: encode: %w", key, err)
	}
	tmp, err := os.CreateTemp(f.dir, ".pin-*")
	if err != nil {
		return Set{}, false, fmt.Errorf("pin %s: %w", key, err)
	}
	defer os.Remove(tmp.Name())
	if err := writeSynced(tmp, data, 0o600); err != nil {
		return Set{}, false, fmt.Errorf("pin %s: %w", key, err)
	}
	switch err := os.Link(tmp.Name(), f.path(key)); {
	case err == nil:
		return s, true, nil
	case errors.Is(err, fs.ErrExist):
		stored, ok, err := f.Get(ctx, key)
		if err != nil {
			return Set{}, false, fmt.Errorf("pin %s: read existing pin: %w", key, err)
		}
		if !ok { // removed by hand between our link and read
			return Set{}, false, fmt.Errorf("pin %s: existing pin vanished", key)
		}
		return stored, false, nil
	default:
		return Set{}, false, fmt.Errorf("pin %s: %w", key, err)
	}
}

// Get implements [Store.Get].
func (f *FileStore) Get(ctx context.Context, key string) (Set, bool, error) {
	if err := ctx.Err(); err != nil {
		return Set{}, false, fmt.Errorf("read pin %s: %w", key, err)
	}
	data, err := os.ReadFile(f.path(key))
	if errors.Is(err, fs.ErrNotExist) {
		return Set{}, false, nil
	}
	if err != nil {
		return Set{}, false, fmt.Errorf("read pin %s: %w", key, err)
	}
	var st storedSet
	if err := json.Unmarshal(data, &st); err != nil {
		return Set{}, false, fmt.Errorf("read pin %s: %w", key, err)
	}
	if st.Key != key {
		return Set{}, false, fmt.Errorf("read pin %s: file %s holds key %q", key, f.path(key), st.Key)
	}
	return st.Set, true, nil
}

// Replace implements [Store.Replace].
func (f *FileStore) Replace(ctx context.Context, key string, s Set) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("replace pin %s: %w", key, err)
	}
	data, err := marshal(storedSet{Key: key, Set: s})
	if err != nil {
		return fmt.Errorf("replace pin %s: encode: %w", key, err)
	}
	if err := writeAtomic(f.path(key), data, 0o600); err != nil {
		return fmt.Errorf("replace pin %s: %w", key, err)
	}
	return nil
}

// Close does nothing: a FileStore holds no open files between calls.
func (f *FileStore) Close() error { return nil }
