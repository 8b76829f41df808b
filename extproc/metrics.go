package extproc

import (
	"time"

	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
)

// Metrics receives what the gateway counts. The gateway passes label values
// as it sees them; bounding attacker-chosen ones (methods, tool names) is the
// implementation's job. Implementations must be safe for concurrent use.
// Package extproc/metrics implements it with Prometheus.
type Metrics interface {
	// StreamStarted counts an ext_proc stream (one HTTP exchange).
	StreamStarted(backend string)
	// Message counts a JSON-RPC request or notification from the client.
	Message(backend, method, tool string)
	// Finding counts a detector finding; suppressed ones are not acted on.
	Finding(backend, rule, category, severity string, suppressed bool)
	// Decision counts an audit decision: what was done and what active
	// mode does.
	Decision(backend, event, action, wouldAction string)
	// Drift counts one pin change of a kind (pinning.ChangeKind).
	Drift(backend, kind string)
	// Phase records how long one ext_proc message took to judge.
	Phase(phase string, d time.Duration)
	// Scanned counts bytes of JSON-RPC bodies judged, by direction
	// ("request" or "response").
	Scanned(backend, direction string, n int)
	// Error counts a failure that is not a policy decision, by kind.
	Error(kind string)
}

// nopMetrics is the default: nothing is counted.
type nopMetrics struct{}

func (nopMetrics) StreamStarted(string)                         {}
func (nopMetrics) Message(string, string, string)               {}
func (nopMetrics) Finding(string, string, string, string, bool) {}
func (nopMetrics) Decision(string, string, string, string)      {}
func (nopMetrics) Drift(string, string)                         {}
func (nopMetrics) Phase(string, time.Duration)                  {}
func (nopMetrics) Scanned(string, string, int)                  {}
func (nopMetrics) Error(string)                                 {}

// phaseName labels the ext_proc message a request carries, for metrics.
func phaseName(req *extprocv3.ProcessingRequest) string {
	switch req.Request.(type) {
	case *extprocv3.ProcessingRequest_RequestHeaders:
		return "request_headers"
	case *extprocv3.ProcessingRequest_RequestBody:
		return "request_body"
	case *extprocv3.ProcessingRequest_ResponseHeaders:
		return "response_headers"
	case *extprocv3.ProcessingRequest_ResponseBody:
		return "response_body"
	case *extprocv3.ProcessingRequest_RequestTrailers:
		return "request_trailers"
	case *extprocv3.ProcessingRequest_ResponseTrailers:
		return "response_trailers"
	}
	return "unknown"
}
