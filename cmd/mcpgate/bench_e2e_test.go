package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpgate/mcpgate/envoy"
)

// Benchmarks of the transport paths through real Envoy, run by
// `make bench-e2e`. Each reports counts and latencies per target (the
// server directly, a plain Envoy, Envoy + mcpgate passive and active) from
// the same run, so the ratios hold on a noisy machine.

type target struct{ name, base string }

// targets starts a plain Envoy and two mcpgate gateways (bundled config) in
// front of base.
func targets(tb testing.TB, base string) []target {
	tb.Setenv("XDG_STATE_HOME", tb.TempDir())
	up := mustParseURL(tb, base)
	ts := []target{{"direct", base}, {"plain envoy", startDerivedEnvoy(tb, envoy.Options{Upstream: up, PlainRouter: true})}}
	for _, mode := range []string{"passive", "active"} {
		port, _, _ := startMcpgate(tb, "--mode", mode)
		gw := startDerivedEnvoy(tb, envoy.Options{Upstream: up, ExtProc: fmt.Sprintf("127.0.0.1:%d", port)})
		ts = append(ts, target{"mcpgate " + mode, gw})
	}
	return ts
}

// BenchmarkSamplingRace connects a Go SDK client and calls a tool at once;
// the server asks for sampling on the standalone GET stream (its POST
// answers are JSON). The client opens that GET concurrently with the
// POST: if the server handles the POST first, it has no stream to send
// on. Counted per target over 50 runs: ok, error (the server rejected its
// own request) and hang (no answer in 5 s).
func BenchmarkSamplingRace(b *testing.B) {
	envoyBinary(b)
	backend := newTransportBackend(b, time.Second, 0)
	for _, tg := range targets(b, backend.url) {
		b.Run(tg.name, func(b *testing.B) {
			for range b.N {
				var ok, failed, hung int
				for range 50 {
					switch err := sampleOnce(b, tg.base+pathJSONResp); {
					case err == nil:
						ok++
					case errors.Is(err, context.DeadlineExceeded):
						hung++
					default:
						failed++
					}
				}
				b.ReportMetric(float64(ok), "ok/50")
				b.ReportMetric(float64(failed), "errors/50")
				b.ReportMetric(float64(hung), "hangs/50")
			}
		})
	}
}

func sampleOnce(tb testing.TB, endpoint string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	cs := samplingClient(ctx, tb, endpoint)
	defer cs.Close()
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "sample", Arguments: map[string]any{}})
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case err != nil:
		return err
	case res.IsError || textOf(res) != "hi from the client":
		return fmt.Errorf("tool error: %s", textOf(res))
	}
	return nil
}

// BenchmarkSamplingScenario runs the conformance suite's tools-call-sampling
// scenario (the TypeScript SDK's client) 50 times per target against two
// Go SDK servers: the SDK's conformance server, which asks for sampling on
// the tools/call POST's own SSE stream, and one answering POSTs with JSON,
// which must use the standalone GET stream the client opens concurrently.
func BenchmarkSamplingScenario(b *testing.B) {
	suite := conformanceSuite(b)
	envoyBinary(b)
	everything := startEverythingServer(b, buildSDKCommand(b, "everything-server"), false)
	servers := []struct{ name, base, path string }{
		{"post stream", strings.TrimSuffix(everything, "/mcp"), "/mcp"},
		{"get stream", newTransportBackend(b, time.Second, 0).url, pathJSONResp},
	}
	for _, srv := range servers {
		for _, tg := range targets(b, srv.base) {
			b.Run(srv.name+"/"+tg.name, func(b *testing.B) {
				for range b.N {
					var ok, failed, hung int
					for range 50 {
						dir := b.TempDir()
						_, err := suite.exec(10*time.Second, "server", "--url", tg.base+srv.path, "--scenario", "tools-call-sampling", "-o", dir)
						checks, found, rerr := readChecks(b, dir, "server", "tools-call-sampling")
						switch {
						case err != nil:
							hung++
						case rerr != nil || !found || checks["tools-call-sampling/tools-call-sampling"] != "SUCCESS":
							failed++
						default:
							ok++
						}
					}
					b.ReportMetric(float64(ok), "ok/50")
					b.ReportMetric(float64(failed), "failures/50")
					b.ReportMetric(float64(hung), "hangs/50")
				}
			})
		}
	}
}

// BenchmarkGETLatency measures the time from sending a GET for an SSE
// stream to its response headers, the path whose delay widens the race
// above. Targets take turns, request by request, so machine noise hits
// them alike; each reports its median and 90th percentile.
func BenchmarkGETLatency(b *testing.B) {
	envoyBinary(b)
	backend := newTransportBackend(b, time.Second, 0)
	ts := targets(b, backend.url)
	const rounds = 300
	for range b.N {
		took := make([][]time.Duration, len(ts))
		for range rounds {
			for i, tg := range ts {
				d, err := timeGET(tg.base + pathKeepalive)
				if err != nil {
					b.Fatalf("%s: %v", tg.name, err)
				}
				took[i] = append(took[i], d)
			}
		}
		for i := range took {
			slices.Sort(took[i])
		}
		plain := took[1][rounds/2] // ts[1] is the plain Envoy
		for i, tg := range ts {
			p50, p90 := took[i][rounds/2], took[i][rounds*9/10]
			unit := strings.ReplaceAll(tg.name, " ", "_")
			b.ReportMetric(float64(p50.Microseconds()), unit+"-p50-µs")
			b.ReportMetric(float64(p90.Microseconds()), unit+"-p90-µs")
			b.Logf("%-16s p50 %6dµs p90 %6dµs (p50 vs plain envoy %+dµs)", tg.name, p50.Microseconds(), p90.Microseconds(), (p50 - plain).Microseconds())
		}
	}
}

func timeGET(u string) (time.Duration, error) {
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	req.Header.Set("Accept", "text/event-stream")
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	d := time.Since(start)
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("status %d", resp.StatusCode)
	}
	_, err = io.Copy(io.Discard, resp.Body)
	return d, err
}

// BenchmarkGETSoak holds one GET SSE stream open through Envoy + mcpgate
// (active, bundled config) for MCPGATE_SOAK (e.g. 65m: past the bundled
// hour-long stream_idle_timeout and route idle_timeout), with a keep-alive
// every 30 s, and reports whether it was cut and how the heap moved.
func BenchmarkGETSoak(b *testing.B) {
	d, err := time.ParseDuration(os.Getenv("MCPGATE_SOAK"))
	if err != nil {
		b.Skip("set MCPGATE_SOAK to a duration (e.g. 65m) to run the soak")
	}
	envoyBinary(b)
	const every = 30 * time.Second
	backend := newTransportBackend(b, every, d)
	b.Setenv("XDG_STATE_HOME", b.TempDir())
	port, _, _ := startMcpgate(b, "--mode", "active")
	gw := startDerivedEnvoy(b, envoy.Options{Upstream: mustParseURL(b, backend.url), ExtProc: fmt.Sprintf("127.0.0.1:%d", port)})
	for range b.N {
		longGET(b, gw, every, d)
	}
}
