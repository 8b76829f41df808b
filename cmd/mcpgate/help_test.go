package main

import (
	"bytes"
	"context"
	"os"
	"regexp"
	"strings"
	"testing"
)

// commands are the commands the top-level usage lists.
func commands(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, m := range regexp.MustCompile(`(?m)^  ([a-z]+) `).FindAllStringSubmatch(usage, -1) {
		if m[1] != "help" {
			out = append(out, m[1])
		}
	}
	if len(out) < 6 {
		t.Fatalf("usage lists %v", out)
	}
	return out
}

func runCmd(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := Run(context.Background(), args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

// TestHelp: every way of asking for help exits 0 with the usage on stdout
// and nothing on stderr, for every command; a bad flag still exits 2 with
// the usage on stderr.
func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}} {
		code, stdout, stderr := runCmd(args...)
		if code != 0 || !strings.Contains(stdout, "commands:") || stderr != "" {
			t.Errorf("mcpgate %v: exit %d, stdout %q, stderr %q", args, code, stdout, stderr)
		}
	}
	for _, cmd := range commands(t) {
		for _, args := range [][]string{{cmd, "--help"}, {cmd, "-h"}, {"help", cmd}} {
			code, stdout, stderr := runCmd(args...)
			if code != 0 || !strings.HasPrefix(stdout, "usage: mcpgate "+cmd) || !strings.Contains(stdout, "  -") || stderr != "" {
				t.Errorf("mcpgate %v: exit %d, stdout %q, stderr %q", args, code, stdout, stderr)
			}
		}
		code, stdout, stderr := runCmd(cmd, "--no-such-flag")
		if code != 2 || stdout != "" || !strings.Contains(stderr, "flag provided but not defined") || !strings.Contains(stderr, "usage: mcpgate "+cmd) {
			t.Errorf("mcpgate %s --no-such-flag: exit %d, stdout %q, stderr %q", cmd, code, stdout, stderr)
		}
	}
	if code, _, stderr := runCmd("help", "nope"); code != 2 || !strings.Contains(stderr, `unknown command "nope"`) {
		t.Errorf("help nope: exit %d, %q", code, stderr)
	}
}

// TestFlagsDocumented: every flag every command accepts is named in
// docs/cli.md, as --flag (or -o for one-letter flags).
func TestFlagsDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/cli.md")
	if err != nil {
		t.Fatal(err)
	}
	flagLine := regexp.MustCompile(`(?m)^  -([a-z][a-z0-9-]*)`)
	for _, cmd := range commands(t) {
		_, stdout, _ := runCmd(cmd, "--help")
		flags := flagLine.FindAllStringSubmatch(stdout, -1)
		if len(flags) == 0 {
			t.Errorf("%s --help lists no flags", cmd)
		}
		for _, f := range flags {
			name := "--" + f[1]
			if len(f[1]) == 1 {
				name = "-" + f[1]
			}
			if !strings.Contains(string(doc), name) {
				t.Errorf("docs/cli.md does not mention mcpgate %s %s", cmd, name)
			}
		}
	}
}
