package extproc

import (
	"encoding/hex"
	"fmt"
	"time"

	"github.com/mcpgate/mcpgate/detectors"
)

// Suppression silences one finding precisely, instead of switching a rule
// off: the same rule, on the same evidence (the exact matched text, named
// by its hash in the audit trail), from the same tool of the same backend.
// A suppressed finding is not acted on, but it is still recorded (action
// "suppressed") and counted.
type Suppression struct {
	Backend string `yaml:"backend"`
	// Tool is the tool whose definition or result held the finding; empty
	// for content with no tool (initialize instructions, sampling).
	Tool     string    `yaml:"tool"`
	Rule     string    `yaml:"rule"`
	Evidence string    `yaml:"evidence"` // audit trail "evidence": 16 hex digits
	Expires  time.Time `yaml:"expires"`  // a YAML timestamp: 2026-12-31 or RFC 3339
	Reason   string    `yaml:"reason"`
}

func validateSuppressions(ss []Suppression) error {
	for i, s := range ss {
		b, err := hex.DecodeString(s.Evidence)
		switch {
		case s.Backend == "" || s.Rule == "":
			return fmt.Errorf("suppressions[%d]: backend and rule are required", i)
		case err != nil || len(b) != 8:
			return fmt.Errorf("suppressions[%d]: evidence %q: want the 16 hex digits from the audit trail", i, s.Evidence)
		case s.Expires.IsZero():
			return fmt.Errorf("suppressions[%d]: expires is required (a date such as 2026-12-31)", i)
		case s.Reason == "":
			return fmt.Errorf("suppressions[%d]: reason is required", i)
		}
	}
	return nil
}

// ExpiredSuppressions returns the entries past their expiry at now: they
// are ignored, and the server warns about each at startup.
func (p Policy) ExpiredSuppressions(now time.Time) []Suppression {
	var out []Suppression
	for _, s := range p.Suppressions {
		if !now.Before(s.Expires) {
			out = append(out, s)
		}
	}
	return out
}

// warnExpired logs each expired suppression of p, when a policy is loaded.
func (srv *Server) warnExpired(p Policy) {
	for _, s := range p.ExpiredSuppressions(time.Now()) {
		srv.log.Warn("suppression expired, ignored", "backend", s.Backend, "tool", s.Tool, "rule", s.Rule,
			"evidence", s.Evidence, "expires", s.Expires)
	}
}

// suppression returns the unexpired entry matching a finding, if any.
func (p *Policy) suppression(backend, tool string, f detectors.Finding, now time.Time) (Suppression, bool) {
	for _, s := range p.Suppressions {
		if s.Backend == backend && s.Tool == tool && s.Rule == f.Rule && s.Evidence == f.Evidence && now.Before(s.Expires) {
			return s, true
		}
	}
	return Suppression{}, false
}
