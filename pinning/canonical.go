package pinning

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// canonical re-encodes JSON with sorted object keys, no insignificant
// space, numbers exactly as written (json.Number, never through float64,
// so 1.0 and 1e2 keep their spelling) and strings escaped one way, so the
// same tool hashes the same whatever server or library serialised it.
func canonical(raw []byte) ([]byte, error) {
	v, err := decodeJSON(raw)
	if err != nil {
		return nil, fmt.Errorf("canonical JSON: %w", err)
	}
	return encodeCanonical(v)
}

// decodeJSON decodes one JSON value, keeping numbers as json.Number and
// rejecting trailing data, which a serialiser would never emit.
func decodeJSON(raw []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if len(bytes.TrimSpace(raw[dec.InputOffset():])) > 0 {
		return nil, errors.New("trailing data after JSON value")
	}
	return v, nil
}

func encodeCanonical(v any) ([]byte, error) {
	// marshal leaves <, > and & alone: \u003cIMPORTANT\u003e would be as
	// canonical, but unreadable in a reviewed lockfile.
	b, err := marshal(v) // maps encode with sorted keys
	if err != nil {
		return nil, fmt.Errorf("canonical JSON: %w", err)
	}
	return b, nil
}
