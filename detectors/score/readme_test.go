package score_test

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/mcpgate/mcpgate/detectors/score"
)

// TestREADMEWeights keeps the README's table of checks, the one users
// predict their score from, in step with the weights the code applies.
func TestREADMEWeights(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range score.Checks() {
		cp := "none"
		if c.MaxScore < 100 {
			cp = fmt.Sprint(c.MaxScore)
		}
		row := fmt.Sprintf("| `%s` | %s | %s | %d | %d | %s | %s |", c.ID, c.OWASP, c.Severity, c.Points, c.Max, cp, c.Title)
		if !strings.Contains(string(readme), row+"\n") {
			t.Errorf("README.md lacks the row\n%s", row)
		}
	}
}
