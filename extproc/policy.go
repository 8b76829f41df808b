package extproc

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"slices"

	"gopkg.in/yaml.v3"

	"github.com/mcpgate/mcpgate/detectors"
)

// Mode says whether decisions are enforced.
type Mode string

const (
	// Passive observes and logs what active mode would do; it changes nothing.
	Passive Mode = "passive"
	// Active enforces: rejects, filters and withholds.
	Active Mode = "active"
)

// DefaultMaxBodyBytes bounds a buffered body or one SSE event. The bundled
// envoy.yaml sets the same value as its buffer limit.
const DefaultMaxBodyBytes = 4 << 20

// DefaultBackend names the policy used when a route does not name one.
const DefaultBackend = "default"

// Policy is mcpgate's configuration, read from the --config YAML file.
type Policy struct {
	Mode         Mode `yaml:"mode"`
	MaxBodyBytes int  `yaml:"max_body_bytes"`
	// MaxJSONDepth bounds how deeply a request, a response or an SSE
	// event's data may nest (default 64, at most 256): deeper bodies are
	// refused before they are parsed, in active mode, and passed unparsed
	// (logged) in passive mode (see bounds.go).
	MaxJSONDepth int                      `yaml:"max_json_depth"`
	Backends     map[string]BackendPolicy `yaml:"backends"`
	Detectors    DetectorPolicy           `yaml:"detectors"`
	Pinning      PinningPolicy            `yaml:"pinning"`
	// MinScore is the lowest MCP Score (0-100) a backend may have, for
	// backends that set none; 0 turns the check off (see score.go).
	MinScore int `yaml:"min_score"`
	// FailureMode is what mcpgate does when a check it needs cannot run
	// (the pin store is unreachable): open passes, closed withholds.
	FailureMode FailureMode `yaml:"failure_mode"`
	// Auth holds the agents' bearer tokens; backends opt in with auth.
	Auth         AuthPolicy    `yaml:"auth"`
	Suppressions []Suppression `yaml:"suppressions"` // see suppress.go
}

// PinningPolicy configures tool pinning (package pinning).
type PinningPolicy struct {
	// Disabled turns pinning off; by default it is on.
	Disabled bool `yaml:"disabled"`
	// Store holds trust-on-first-use pins for backends without a lockfile:
	// a directory ("file:///dir" or a path) or "redis://host:port/db" for
	// several replicas. Default: $XDG_STATE_HOME/mcpgate/pins.
	Store string `yaml:"store"`
	// DriftSeverity is the lowest change severity that makes a tool
	// drifted: hidden from tools/list and refused in tools/call in active
	// mode (default medium; an added tool is low).
	DriftSeverity detectors.Severity `yaml:"drift_severity"`
}

// DetectorPolicy configures content scanning of tool descriptions and
// outputs (package detectors).
type DetectorPolicy struct {
	// Disabled turns scanning off; by default it is on.
	Disabled bool `yaml:"disabled"`
	// WithholdSeverity is the lowest finding severity that withholds a
	// result or removes a tool in active mode (default medium). Every
	// finding is logged whatever its severity.
	WithholdSeverity detectors.Severity `yaml:"withhold_severity"`
	// WithholdCategories are the finding categories that can withhold
	// (default: all but pii, so an e-mail address in a tool result is
	// logged, not withheld).
	WithholdCategories []detectors.Category `yaml:"withhold_categories"`
	// DisabledRules lists detector rule ids never to report.
	DisabledRules []string `yaml:"disabled_rules"`
	// Model configures the learned classifier (rules *.model).
	Model ModelPolicy `yaml:"model"`
}

// ModelPolicy configures the learned classifier beside the rules
// (detectors/classifier/MODEL.md). The zero value leaves it off.
type ModelPolicy struct {
	// Enabled runs the classifier beside the rules.
	Enabled bool `yaml:"enabled"`
	// Low, Medium and High are the attack-window probabilities (0-1) at
	// which a model finding is low, medium or high severity; 0 keeps the
	// calibrated value. Below Low the model reports nothing.
	Low    float64 `yaml:"low"`
	Medium float64 `yaml:"medium"`
	High   float64 `yaml:"high"`
}

func (m ModelPolicy) validate() error {
	last := 0.0
	for _, v := range []float64{m.Low, m.Medium, m.High} {
		if v < 0 || v >= 1 {
			return fmt.Errorf("threshold %v: want a probability in [0,1) (0 keeps the calibrated value)", v)
		}
		if v > 0 && v < last {
			return fmt.Errorf("thresholds low %v, medium %v, high %v must not decrease", m.Low, m.Medium, m.High)
		}
		last = max(last, v)
	}
	return nil
}

// options returns the scanner options of a detector policy.
func (d DetectorPolicy) options() detectors.Options {
	return detectors.Options{DisabledRules: d.DisabledRules,
		Model: detectors.ModelOptions{Enabled: d.Model.Enabled, Low: d.Model.Low, Medium: d.Model.Medium, High: d.Model.High}}
}

// BackendPolicy is the policy for one MCP backend. Envoy names the backend of
// a route with the x-mcpgate-backend gRPC initial metadata header. The
// zero value of an override inherits the top-level setting (see resolve).
type BackendPolicy struct {
	// AllowedTools lists tool names or path.Match globs. Empty allows all.
	AllowedTools []string `yaml:"allowed_tools"`
	// Lockfile is a reviewed pin (mcpgate pin URL -o FILE); without one the
	// first tools/list seen is pinned.
	Lockfile string `yaml:"lockfile"`
	// MinScore overrides the top-level min_score for this backend; 0
	// means the top-level value.
	MinScore int `yaml:"min_score"`
	// Mode, MaxBodyBytes, MaxJSONDepth, WithholdSeverity and FailureMode
	// override the top-level mode, max_body_bytes, max_json_depth,
	// detectors.withhold_severity and failure_mode for this backend's routes.
	Mode             Mode               `yaml:"mode"`
	MaxBodyBytes     int                `yaml:"max_body_bytes"`
	MaxJSONDepth     int                `yaml:"max_json_depth"`
	WithholdSeverity detectors.Severity `yaml:"withhold_severity"`
	FailureMode      FailureMode        `yaml:"failure_mode"`
	// Auth, if set, requires an agent bearer token for this backend and
	// names the credential mcpgate sends the backend instead.
	Auth *RouteAuth `yaml:"auth"`
}

// DefaultPolicy is used when no --config is given: passive, no allowlist.
func DefaultPolicy() Policy {
	return Policy{Mode: Passive, MaxBodyBytes: DefaultMaxBodyBytes, MaxJSONDepth: DefaultMaxJSONDepth,
		Detectors: DetectorPolicy{WithholdSeverity: detectors.Medium, WithholdCategories: []detectors.Category{
			detectors.Injection, detectors.Exfiltration, detectors.Secret, detectors.Obfuscation, detectors.Poisoning,
		}},
		Pinning:     PinningPolicy{DriftSeverity: detectors.Medium},
		FailureMode: FailOpen}
}

// LoadPolicy reads and validates a YAML policy file. Unknown keys are errors,
// so a typo never silently turns a policy off.
func LoadPolicy(file string) (Policy, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return Policy{}, fmt.Errorf("read policy: %w", err)
	}
	p, err := ParsePolicy(data)
	if err != nil {
		return Policy{}, fmt.Errorf("policy %s: %w", file, err)
	}
	return p, nil
}

// ParsePolicy decodes and validates YAML policy bytes, filling defaults.
func ParsePolicy(data []byte) (Policy, error) {
	p := DefaultPolicy()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	// io.EOF means an empty file: all defaults.
	if err := dec.Decode(&p); err != nil && !errors.Is(err, io.EOF) {
		return Policy{}, fmt.Errorf("decode: %w", err)
	}
	return p, p.Validate()
}

// Validate reports the first problem with p.
func (p Policy) Validate() error {
	switch p.Mode {
	case Passive, Active:
	default:
		return fmt.Errorf("mode %q: want passive or active", p.Mode)
	}
	if p.MaxBodyBytes <= 0 {
		return fmt.Errorf("max_body_bytes %d: want a positive size", p.MaxBodyBytes)
	}
	if err := validateDepth("max_json_depth", p.MaxJSONDepth, false); err != nil {
		return err
	}
	if w := p.Detectors.WithholdSeverity; w < detectors.Low || w > detectors.High {
		return fmt.Errorf("detectors.withhold_severity %d: want low, medium or high", int(w))
	}
	if w := p.Pinning.DriftSeverity; w < detectors.Low || w > detectors.High {
		return fmt.Errorf("pinning.drift_severity %d: want low, medium or high", int(w))
	}
	for _, c := range p.Detectors.WithholdCategories {
		if !slices.Contains(detectors.Categories(), c) {
			return fmt.Errorf("detectors.withhold_categories: unknown category %q (want one of %v)", c, detectors.Categories())
		}
	}
	if err := p.Detectors.Model.validate(); err != nil {
		return fmt.Errorf("detectors.model: %w", err)
	}
	if p.MinScore < 0 || p.MinScore > 100 {
		return fmt.Errorf("min_score %d: want 0-100", p.MinScore)
	}
	if err := p.FailureMode.validate(); err != nil {
		return fmt.Errorf("failure_mode: %w", err)
	}
	if err := p.Auth.validate(); err != nil {
		return fmt.Errorf("auth: %w", err)
	}
	if err := validateSuppressions(p.Suppressions); err != nil {
		return err
	}
	for name, b := range p.Backends {
		if err := b.validate(p.Auth); err != nil {
			return fmt.Errorf("backends.%s.%w", name, err)
		}
	}
	return nil
}

// toolAllowed reports whether the allowlist admits tool.
func (b BackendPolicy) toolAllowed(tool string) bool {
	if len(b.AllowedTools) == 0 {
		return true
	}
	for _, pat := range b.AllowedTools {
		if ok, _ := path.Match(pat, tool); ok {
			return true
		}
	}
	return false
}

// newScanner builds the content scanner the policy asks for, nil if off.
func (p Policy) newScanner() (contentScanner, error) {
	if p.Detectors.Disabled {
		return nil, nil
	}
	sc, err := detectors.New(p.Detectors.options())
	if err != nil {
		return nil, fmt.Errorf("detectors: %w", err)
	}
	return sc, nil
}
