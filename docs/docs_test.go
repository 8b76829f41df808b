// Package docs holds mcpgate's manual; its tests keep the reference pages
// in step with the code they describe.
package docs_test

import (
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/audit"
	"github.com/mcpgate/mcpgate/detectors/score"
	"github.com/mcpgate/mcpgate/extproc"
	"github.com/mcpgate/mcpgate/extproc/metrics"
)

func read(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// policyKeys lists every key path the policy parser accepts, as
// policy.md writes them: a.b for a nested key, backends.NAME.x under a
// map, tokens[].name inside a list.
func policyKeys(prefix string, t reflect.Type) []string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var keys []string
	for i := range t.NumField() {
		f := t.Field(i)
		tag, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if tag == "" || tag == "-" {
			continue
		}
		key := prefix + tag
		keys = append(keys, key)
		ft := f.Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		switch {
		case ft.Kind() == reflect.Map && ft.Elem().Kind() == reflect.Struct:
			keys = append(keys, policyKeys(key+".NAME.", ft.Elem())...)
		case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct:
			keys = append(keys, policyKeys(key+"[].", ft.Elem())...)
		case ft.Kind() == reflect.Struct && ft.PkgPath() != "time":
			keys = append(keys, policyKeys(key+".", ft)...)
		}
	}
	return keys
}

// TestPolicyKeysDocumented: every key the policy parser accepts has a row
// in policy.md's tables, or, for a group of keys, a section.
func TestPolicyKeysDocumented(t *testing.T) {
	doc := read(t, "policy.md")
	keys := policyKeys("", reflect.TypeFor[extproc.Policy]())
	if len(keys) < 40 {
		t.Fatalf("found only %d keys: %v", len(keys), keys)
	}
	for _, k := range keys {
		if !strings.Contains(doc, "| `"+k+"` |") && !strings.Contains(doc, "\n## `"+k+"`\n") {
			t.Errorf("policy.md has no row for `%s`", k)
		}
	}
}

// TestAuditVocabularyDocumented: every event and action the audit package
// defines is named in audit-trail.md.
func TestAuditVocabularyDocumented(t *testing.T) {
	doc := read(t, "audit-trail.md")
	for _, e := range audit.Events() {
		if !strings.Contains(doc, "`"+string(e)+"`") {
			t.Errorf("audit-trail.md does not name event %q", e)
		}
	}
	for _, a := range audit.Actions() {
		if !strings.Contains(doc, "`"+string(a)+"`") {
			t.Errorf("audit-trail.md does not name action %q", a)
		}
	}
}

// TestScoreChecksDocumented keeps score.md's table of checks, the one
// users predict their score from, in step with the weights the code
// applies.
func TestScoreChecksDocumented(t *testing.T) {
	doc := read(t, "score.md")
	for _, c := range score.Checks() {
		cp := "none"
		if c.MaxScore < 100 {
			cp = fmt.Sprint(c.MaxScore)
		}
		row := fmt.Sprintf("| `%s` | %s | %s | %d | %d | %s | %s |", c.ID, c.OWASP, c.Severity, c.Points, c.Max, cp, c.Title)
		if !strings.Contains(doc, row+"\n") {
			t.Errorf("score.md lacks the row\n%s", row)
		}
	}
}

// TestMetricsDocumented: every mcpgate_ metric the Prometheus registry
// exports, once each method of extproc.Metrics was called, has a row in
// metrics.md.
func TestMetricsDocumented(t *testing.T) {
	doc := read(t, "metrics.md")
	p := metrics.New()
	var m extproc.Metrics = p // through the interface the gateway calls
	m.StreamStarted("b")
	m.Message("b", "tools/call", "t")
	m.Finding("b", "r", "c", "high", false)
	m.Decision("b", "e", "pass", "reject")
	m.Drift("b", "k")
	m.Phase("request_body", time.Millisecond)
	m.Scanned("b", "request", 1)
	m.Error("receive")
	p.SetScore("b", 90)
	families, err := p.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range families {
		name := f.GetName()
		if !strings.HasPrefix(name, "mcpgate_") {
			continue
		}
		n++
		if !strings.Contains(doc, "| `"+name+"`") {
			t.Errorf("metrics.md has no row for %s", name)
		}
	}
	if n < 10 {
		t.Errorf("only %d mcpgate_ metrics gathered", n)
	}
}
