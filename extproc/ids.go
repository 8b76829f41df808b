package extproc

import (
	"math"
	"math/big"
	"strconv"

	"github.com/tidwall/gjson"
)

// How a response is paired with the request it answers. The official SDKs
// do not compare ids byte for byte:
//
//   - Go SDK: numbers decode to float64 and are truncated to int64, so 1,
//     1.0, 1e0 and even 1.5 all match request 1; strings match strings.
//   - TS SDK: JSON.parse then ===, so 1, 1.0 and 1e0 are one number (and
//     2^53+1 is 2^53), a string never equals a number.
//   - Python mcp: pydantic's int|str union, which in lax mode turns 1.0
//     into 1; a lax client might also coerce "1".
//
// mcpgate keys a request by its exact value (a number as an exact
// rational, a string as its unescaped text), and derives from a response's
// id every key some SDK might match it with. A response is paired only when
// its exact key matches and no alias matches another request; otherwise
// it is unpaired or ambiguous and judged with every check that could apply,
// so a respelled id cannot steer a response past the checks its real
// method gets.

// idKey is a normalised id: "n:" and an exact number, "s:" and a string,
// "x:" and the raw text of a number too extreme to normalise.
type idKey string

// pairing says how sure the gateway is about which request a response
// answers.
type pairing int

const (
	unpaired  pairing = iota // no request with a matching id
	paired                   // exactly one, by exact value
	ambiguous                // only an SDK's lenient comparison matches, or several do
)

// maxIDNumber bounds the text of a numeric id normalised exactly: big.Rat
// would allocate without limit for an exponent like 1e999999999.
const maxIDNumber = 64

// idKeys returns the exact key of a raw JSON id and the other keys an SDK
// might treat as equal to it.
func idKeys(raw string) (idKey, []idKey) {
	v := gjson.Parse(raw)
	switch v.Type {
	case gjson.String:
		key := idKey("s:" + v.String())
		if n := gjson.Parse(v.String()); n.Type == gjson.Number && n.Raw == v.String() {
			exact, aliases := numberKeys(n.Raw)
			return key, append(aliases, exact)
		}
		return key, nil
	case gjson.Number:
		exact, aliases := numberKeys(raw)
		return exact, append(aliases, idKey("s:"+raw))
	}
	return idKey("x:" + raw), nil
}

func numberKeys(raw string) (idKey, []idKey) {
	if plainInt(raw) {
		// The usual id: already in normal form, exact as a float64.
		return idKey("n:" + raw), nil
	}
	var aliases []idKey
	add := func(k idKey) {
		for _, a := range aliases {
			if a == k {
				return
			}
		}
		aliases = append(aliases, k)
	}
	f, ferr := strconv.ParseFloat(raw, 64)
	if ferr == nil && !math.IsInf(f, 0) && math.Abs(f) < 1<<63 {
		add(idKey("n:" + strconv.FormatInt(int64(f), 10))) // Go SDK: truncated
		if f == math.Trunc(f) {
			add(idKey("n:" + big.NewFloat(f).Text('f', 0))) // TS/Python: the float64 value
		}
	}
	if len(raw) > maxIDNumber {
		return idKey("x:" + raw), aliases
	}
	r, ok := new(big.Rat).SetString(raw)
	if !ok {
		return idKey("x:" + raw), aliases
	}
	exact := idKey("n:" + r.RatString())
	out := aliases[:0]
	for _, a := range aliases {
		if a != exact {
			out = append(out, a)
		}
	}
	return exact, out
}

// remember keeps a request's call under its exact id key.
func (s *stream) remember(rawID string, c call) {
	key, _ := idKeys(rawID)
	c.rawID = rawID
	s.calls[key] = c
}

// pair finds the request a response with raw id answers.
func (s *stream) pair(rawID string) (call, pairing) {
	key, aliases := idKeys(rawID)
	c, exact := s.calls[key]
	others := 0
	for _, a := range aliases {
		if _, ok := s.calls[a]; ok {
			others++
		}
	}
	switch {
	case exact && others == 0:
		return c, paired
	case exact || others > 0:
		return call{}, ambiguous
	}
	return call{}, unpaired
}

// plainInt reports whether raw is an integer in normal form (no sign,
// leading zero, fraction or exponent) small enough that every SDK reads it
// exactly.
func plainInt(raw string) bool {
	if raw == "" || len(raw) > 15 || (raw[0] == '0' && len(raw) > 1) {
		return false
	}
	for i := 0; i < len(raw); i++ {
		if raw[i] < '0' || raw[i] > '9' {
			return false
		}
	}
	return true
}
