package extproc

import (
	"log/slog"

	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
)

// Option configures a Server beyond its policy.
type Option func(*Server)

// WithAudit writes the audit trail to log (see NewAuditLogger) instead of
// the server's own log.
func WithAudit(log *slog.Logger) Option { return func(s *Server) { s.audit = log } }

// WithMetrics counts streams, messages, findings and decisions into m.
func WithMetrics(m Metrics) Option { return func(s *Server) { s.metrics = m } }

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
