package pinning

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Lockfile is a reviewed pin, written by `mcpgate pin` and committed.
type Lockfile struct {
	Version int       `json:"version"` // 1
	Server  string    `json:"server"`  // URL it was taken from
	Created time.Time `json:"created"`
	Set
	// Prompts and ResourceTemplates are pinned when the server lists them.
	Prompts           *Set `json:"prompts,omitempty"`
	ResourceTemplates *Set `json:"resource_templates,omitempty"`
}

// lockfileVersion is the only lockfile format this package reads.
const lockfileVersion = 1

// ReadLockfile reads a lockfile and checks it is what WriteLockfile would
// write: each definition re-pins to its name and sha256 and the
// fingerprint matches, so a definition edited by hand without its hashes
// (or hashes edited without a review of the definition) is refused.
func ReadLockfile(path string) (Lockfile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Lockfile{}, fmt.Errorf("read lockfile: %w", err)
	}
	var lf Lockfile
	if err := json.Unmarshal(data, &lf); err != nil {
		return Lockfile{}, fmt.Errorf("lockfile %s: invalid JSON: %w", path, err)
	}
	if lf.Version != lockfileVersion {
		return Lockfile{}, fmt.Errorf("lockfile %s: version %d, want %d", path, lf.Version, lockfileVersion)
	}
	defs, err := verifyEntries(path, "tool", lf.Tools, NewTool)
	if err != nil {
		return Lockfile{}, err
	}
	set, err := NewSet(defs, lf.Instructions)
	if err != nil {
		return Lockfile{}, fmt.Errorf("lockfile %s: %w", path, err)
	}
	if set.Fingerprint != lf.Fingerprint {
		return Lockfile{}, fmt.Errorf("lockfile %s: fingerprint does not match its tools and instructions (tampered?)", path)
	}
	lf.Set = set
	for _, o := range []struct {
		what   string
		set    **Set
		fields []string
	}{{"prompt", &lf.Prompts, PromptFields}, {"resource template", &lf.ResourceTemplates, ResourceTemplateFields}} {
		if *o.set == nil {
			continue
		}
		fields := o.fields
		defs, err := verifyEntries(path, o.what, (*o.set).Tools, func(d []byte) (Tool, error) { return NewEntry(d, fields) })
		if err != nil {
			return Lockfile{}, err
		}
		s, err := NewEntrySet(defs, fields)
		if err != nil {
			return Lockfile{}, fmt.Errorf("lockfile %s: %ss: %w", path, o.what, err)
		}
		if s.Fingerprint != (*o.set).Fingerprint {
			return Lockfile{}, fmt.Errorf("lockfile %s: %ss: fingerprint does not match (tampered?)", path, o.what)
		}
		*o.set = &s
	}
	return lf, nil
}

// verifyEntries re-pins each entry's definition and checks its name and
// hash, returning the definitions.
func verifyEntries(path, what string, entries []Tool, pin func([]byte) (Tool, error)) ([][]byte, error) {
	defs := make([][]byte, len(entries))
	for i, t := range entries {
		// Definitions are indented in the file; pinning re-canonicalises.
		got, err := pin(t.Definition)
		if err != nil {
			return nil, fmt.Errorf("lockfile %s: %s %q: %w", path, what, t.Name, err)
		}
		if got.Name != t.Name {
			return nil, fmt.Errorf("lockfile %s: %s %q: definition names %q (tampered?)", path, what, t.Name, got.Name)
		}
		if got.SHA256 != t.SHA256 {
			return nil, fmt.Errorf("lockfile %s: %s %q: sha256 does not match its definition (tampered?)", path, what, t.Name)
		}
		// Pinning drops fields the model never sees; a lockfile holding
		// any was not written by WriteLockfile.
		if canon, err := canonical(t.Definition); err != nil || !bytes.Equal(canon, got.Definition) {
			return nil, fmt.Errorf("lockfile %s: %s %q: definition has fields that are not pinned (tampered?)", path, what, t.Name)
		}
		defs[i] = t.Definition
	}
	return defs, nil
}

// WriteLockfile writes lf indented, in a stable order and with <, > and &
// left readable, so diffs of the file are reviewable. The file is
// replaced atomically: a gateway starting meanwhile reads the old or the
// new lockfile, never half of one.
func WriteLockfile(path string, lf Lockfile) error {
	if lf.Version == 0 {
		lf.Version = lockfileVersion
	}
	if lf.Version != lockfileVersion {
		return fmt.Errorf("write lockfile %s: version %d, want %d", path, lf.Version, lockfileVersion)
	}
	if lf.Tools == nil {
		lf.Tools = []Tool{} // "tools": [] rather than null
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(lf); err != nil {
		return fmt.Errorf("encode lockfile: %w", err)
	}
	return writeAtomic(path, b.Bytes(), 0o644)
}

// writeAtomic replaces path with data: a temp file in the same directory,
// synced, then renamed over path.
func writeAtomic(path string, data []byte, perm os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path)+"-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename, a no-op
	if err := writeSynced(tmp, data, perm); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// writeSynced writes, chmods, syncs and closes f, so that once it is
// linked or renamed into place its content survives a crash.
func writeSynced(f *os.File, data []byte, perm os.FileMode) error {
	_, err := f.Write(data)
	if err == nil {
		err = f.Chmod(perm)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
