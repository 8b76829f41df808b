package pinning

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
)

// Store keeps trust-on-first-use pins shared by all replicas.
type Store interface {
	// Pin stores s under key unless a set is already stored there; it
	// returns the stored set and whether s was stored now. Of concurrent
	// first Pins, on any replica, exactly one is stored.
	Pin(ctx context.Context, key string, s Set) (stored Set, created bool, err error)
	// Get returns the set stored under key, if any.
	Get(ctx context.Context, key string) (Set, bool, error)
	// Replace stores s under key whatever was there: a re-approval.
	Replace(ctx context.Context, key string, s Set) error
	Close() error
}

// OpenStore opens "redis://host:port[/db]" (or rediss://) as a RedisStore,
// and "file:///abs/dir" or a plain path as a FileStore (creating the
// directory). Any other scheme is an error rather than a directory with a
// strange name.
func OpenStore(ctx context.Context, rawURL string) (Store, error) {
	scheme, _, hasScheme := strings.Cut(rawURL, "://")
	if !hasScheme {
		return openFileStore(rawURL)
	}
	switch strings.ToLower(scheme) {
	case "redis", "rediss":
		return openRedisStore(ctx, rawURL)
	case "file":
		u, err := url.Parse(rawURL)
		if err != nil {
			return nil, fmt.Errorf("pin store %q: %w", rawURL, err)
		}
		if u.Host != "" && u.Host != "localhost" {
			return nil, fmt.Errorf("pin store %q: file URL with host %q; want file:///abs/dir", rawURL, u.Host)
		}
		return openFileStore(u.Path)
	default:
		return nil, fmt.Errorf("pin store %q: unknown scheme %q (want a directory, file:// or redis://)", rawURL, scheme)
	}
}

// marshal encodes a stored pin without HTML escaping, so definitions keep
// the exact canonical bytes their sha256 was taken over.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}
