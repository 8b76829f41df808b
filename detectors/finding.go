package detectors

import (
	"fmt"
	"strings"
)

// Category groups rules by the kind of threat they detect.
type Category string

// Categories reported in Finding.Category.
const (
	Injection    Category = "injection"
	Exfiltration Category = "exfiltration"
	Secret       Category = "secret"
	PII          Category = "pii"
	Obfuscation  Category = "obfuscation"
	Poisoning    Category = "poisoning"
)

// Categories returns every category, in a fixed order.
func Categories() []Category {
	return []Category{Injection, Exfiltration, Secret, PII, Obfuscation, Poisoning}
}

// Severity orders findings so policy can act on a threshold. The zero value
// means "no finding" (see MaxSeverity).
type Severity int

// Severities, from weakest to strongest signal.
const (
	Low    Severity = 1
	Medium Severity = 2
	High   Severity = 3
)

// String returns "low", "medium" or "high"; other values print as a number
// so that a bad value is visible rather than silently renamed.
func (s Severity) String() string {
	switch s {
	case Low:
		return "low"
	case Medium:
		return "medium"
	case High:
		return "high"
	}
	return fmt.Sprintf("severity(%d)", int(s))
}

// ParseSeverity accepts "low", "medium" or "high" in any case.
func ParseSeverity(s string) (Severity, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "low":
		return Low, nil
	case "medium":
		return Medium, nil
	case "high":
		return High, nil
	}
	return 0, fmt.Errorf("detectors: unknown severity %q (want low, medium or high)", s)
}

// MarshalText encodes the severity as its name, so JSON and YAML carry
// "high" rather than 3.
func (s Severity) MarshalText() ([]byte, error) {
	if s < Low || s > High {
		return nil, fmt.Errorf("detectors: cannot marshal invalid severity %d", int(s))
	}
	return []byte(s.String()), nil
}

// UnmarshalText is the inverse of MarshalText.
func (s *Severity) UnmarshalText(b []byte) error {
	v, err := ParseSeverity(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// Finding is one detection. It never holds the matched secret or personal
// data: Excerpt is masked for those rules, and truncated and escaped for the
// others, so a Finding can be logged as is.
type Finding struct {
	Rule     string   `json:"rule"`
	Category Category `json:"category"`
	Severity Severity `json:"severity"`
	// Start and End are byte offsets into the original text given to Scan
	// (for ScanTool: into the string named by Field).
	Start   int    `json:"start"`
	End     int    `json:"end"`
	Excerpt string `json:"excerpt"`
	// Evidence is the first 16 hex digits of the SHA-256 of the matched
	// bytes (text[Start:End]): it names the exact evidence, so a finding
	// can be suppressed precisely, without keeping the text.
	Evidence string `json:"evidence"`
	// Field names the tool-definition string the finding is in (ScanTool only),
	// e.g. "description" or "inputSchema.properties.path.description".
	Field string `json:"field,omitempty"`
	// Detail explains a learned-model finding (rules *.model): the window's
	// probability and the n-grams that weighed most, escaped like Excerpt.
	Detail string `json:"detail,omitempty"`
}

// MaxSeverity returns the highest severity among findings, or 0 for none.
func MaxSeverity(findings []Finding) Severity {
	var max Severity
	for _, f := range findings {
		if f.Severity > max {
			max = f.Severity
		}
	}
	return max
}
