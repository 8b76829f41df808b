// Per-backend policy: resolving a route's backend to its effective
// policy, validating backend entries, the failure mode, and refusing a
// route that names no known backend.

package extproc

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"path"
	"slices"

	"github.com/mcpgate/mcpgate/detectors"
)

// FailureMode says what mcpgate does when a check it needs cannot run.
// Whether Envoy waits for mcpgate at all is Envoy's failure_mode_allow.
type FailureMode string

const (
	// FailOpen passes what could not be checked, with an error log.
	FailOpen FailureMode = "open"
	// FailClosed withholds it (active mode) with a JSON-RPC error.
	FailClosed FailureMode = "closed"
)

// validate accepts "" as open, so a Policy built in code without
// DefaultPolicy keeps the old fail-open behaviour.
func (f FailureMode) validate() error {
	switch f {
	case "", FailOpen, FailClosed:
		return nil
	}
	return fmt.Errorf("%q: want open or closed", f)
}

// resolve returns the effective policy for a stream of the named backend:
// the top-level settings with the backend's overrides applied, and the
// backend's own rules. Every field of BackendPolicy is carried in rules, so
// a new per-backend field needs no change here unless it overrides a
// top-level one. ok is false for a name the policy does not define; only
// "default" may be left out (it then has no rules of its own).
func (p Policy) resolve(name string) (eff Policy, rules BackendPolicy, ok bool) {
	rules, ok = p.Backends[name]
	if !ok && name != DefaultBackend {
		return Policy{}, BackendPolicy{}, false
	}
	eff = p
	if rules.Mode != "" {
		eff.Mode = rules.Mode
	}
	if rules.MaxBodyBytes != 0 {
		eff.MaxBodyBytes = rules.MaxBodyBytes
	}
	if rules.MaxJSONDepth != 0 {
		eff.MaxJSONDepth = rules.MaxJSONDepth
	}
	if rules.WithholdSeverity != 0 {
		eff.Detectors.WithholdSeverity = rules.WithholdSeverity
	}
	if rules.FailureMode != "" {
		eff.FailureMode = rules.FailureMode
	}
	return eff, rules, true
}

// backendNames lists the defined backends, sorted, for error messages.
func (p Policy) backendNames() []string {
	return slices.Sorted(maps.Keys(p.Backends))
}

// LargestBody is the largest max_body_bytes of any backend, which bounds
// the gRPC messages mcpgate must accept.
func (p Policy) LargestBody() int {
	n := p.MaxBodyBytes
	for _, b := range p.Backends {
		n = max(n, b.MaxBodyBytes)
	}
	return n
}

// ForceMode sets the mode of the policy and of every backend, for the
// --mode flag: an operator asking for passive mode expects no route to
// enforce.
func (p *Policy) ForceMode(m Mode) {
	p.Mode = m
	backends := make(map[string]BackendPolicy, len(p.Backends))
	for name, b := range p.Backends {
		b.Mode = ""
		backends[name] = b
	}
	p.Backends = backends
}

// validate reports the first problem with a backend's policy; the error
// starts with the offending key.
func (b BackendPolicy) validate(auth AuthPolicy) error {
	for _, pat := range b.AllowedTools {
		if _, err := path.Match(pat, ""); err != nil {
			return fmt.Errorf("allowed_tools: pattern %q: %w", pat, err)
		}
	}
	switch b.Mode {
	case "", Passive, Active:
	default:
		return fmt.Errorf("mode %q: want passive or active", b.Mode)
	}
	if b.MaxBodyBytes < 0 {
		return fmt.Errorf("max_body_bytes %d: want a positive size", b.MaxBodyBytes)
	}
	if err := validateDepth("max_json_depth", b.MaxJSONDepth, true); err != nil {
		return err
	}
	if w := b.WithholdSeverity; w != 0 && (w < detectors.Low || w > detectors.High) {
		return fmt.Errorf("withhold_severity %d: want low, medium or high", int(w))
	}
	if err := b.FailureMode.validate(); err != nil {
		return fmt.Errorf("failure_mode: %w", err)
	}
	if b.MinScore < 0 || b.MinScore > 100 {
		return fmt.Errorf("min_score %d: want 0-100", b.MinScore)
	}
	if b.Auth != nil {
		if err := b.Auth.validate(auth); err != nil {
			return fmt.Errorf("auth.%w", err)
		}
	}
	return nil
}

// refuseUnknownBackend fails closed when the route names a backend the
// policy does not define: a typo in envoy.yaml or a policy edit that
// dropped a backend must not leave its routes unchecked.
func (s *stream) refuseUnknownBackend(ctx context.Context) Decision {
	msg := fmt.Sprintf("mcpgate: route names backend policy %q, which the policy does not define", s.backend)
	return s.enforceAlways(ctx, Decision{Reject: &Reject{
		Status: 500, Body: errorResponse("null", codeInternalError, msg, nil), Details: "mcpgate_unknown_backend",
	}}, "unknown_backend", slog.Any("known_backends", s.policy.backendNames()))
}
