package main

import (
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// dockerInstruction is one Dockerfile instruction with its continuation
// lines joined.
type dockerInstruction struct{ cmd, args string }

func parseDockerfile(t *testing.T, file string) []dockerInstruction {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var out []dockerInstruction
	var cur strings.Builder
	for _, line := range strings.Split(string(data), "\n") {
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		if s, ok := strings.CutSuffix(trimmed, "\\"); ok {
			cur.WriteString(s + " ")
			continue
		}
		cur.WriteString(trimmed)
		cmd, args, _ := strings.Cut(cur.String(), " ")
		out = append(out, dockerInstruction{strings.ToUpper(cmd), strings.TrimSpace(args)})
		cur.Reset()
	}
	return out
}

// TestDockerfile checks what can be checked without a Docker engine (none
// is on the build machines): hadolint's lint, a final stage that is
// distroless or scratch and runs as a numeric non-root user, and that the
// Dockerfile's own go build command yields a static binary that runs.
func TestDockerfile(t *testing.T) {
	const file = "../../Dockerfile"
	ins := parseDockerfile(t, file)
	var stages, final []dockerInstruction
	for _, in := range ins {
		if in.cmd == "FROM" {
			stages = append(stages, in)
			final = nil
		}
		final = append(final, in)
	}
	if len(stages) < 2 {
		t.Fatalf("want a multi-stage build, found %d FROM", len(stages))
	}
	if base := final[0].args; !strings.HasPrefix(base, "gcr.io/distroless/static") && base != "scratch" {
		t.Errorf("final stage FROM %s: want distroless static or scratch (no libc, no shell)", base)
	}
	var user, build string
	for _, in := range final {
		if in.cmd == "USER" {
			user = in.args
		}
	}
	if !regexp.MustCompile(`^[1-9][0-9]*(:[1-9][0-9]*)?$`).MatchString(user) {
		t.Errorf("final stage USER %q: want a numeric non-root uid, so runAsNonRoot can verify it", user)
	}
	for _, in := range ins {
		if in.cmd == "RUN" && strings.Contains(in.args, "go build") {
			build = in.args
		}
	}
	if !strings.HasPrefix(build, "CGO_ENABLED=0 go build ") || !strings.HasSuffix(build, " ./cmd/mcpgate") {
		t.Fatalf("build step %q: want CGO_ENABLED=0 go build ... ./cmd/mcpgate", build)
	}

	t.Run("hadolint", func(t *testing.T) {
		bin, err := exec.LookPath("hadolint")
		if err != nil {
			bin, _ = filepath.Abs("../../.venv/bin/hadolint")
			if _, err := os.Stat(bin); err != nil {
				if os.Getenv("CI") != "" {
					t.Fatal("no hadolint on PATH or in .venv: make hadolint installs it")
				}
				t.Skip("no hadolint on PATH or in .venv: run `make hadolint` to enable this check")
			}
		}
		if out, err := exec.Command(bin, file).CombinedOutput(); err != nil {
			t.Errorf("hadolint %s: %v\n%s", file, err, out)
		}
	})

	t.Run("static binary", func(t *testing.T) {
		if testing.Short() {
			t.Skip("-short: skipping the static build")
		}
		out := filepath.Join(t.TempDir(), "mcpgate")
		// The Dockerfile's RUN line, as its shell runs it, writing where
		// the test can look.
		script := regexp.MustCompile(`-o \S+`).ReplaceAllLiteralString(build, "-o '"+out+"'")
		cmd := exec.Command("sh", "-c", script)
		cmd.Dir = "../.."
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", script, err, b)
		}
		f, err := elf.Open(out)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		for _, p := range f.Progs {
			if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
				t.Errorf("binary has a %s program header: it is dynamically linked", p.Type)
			}
		}
		if b, err := exec.Command(out, "help").CombinedOutput(); err != nil || !strings.Contains(string(b), "usage: mcpgate") {
			t.Errorf("%s help: %v\n%s", out, err, b)
		}
	})
}
