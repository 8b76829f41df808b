package extproc

import "log/slog"

// Option configures a Server beyond its policy.
type Option func(*Server)

// WithAudit writes the audit trail to log (see NewAuditLogger) instead of
// the server's own log.
func WithAudit(log *slog.Logger) Option { return func(s *Server) { s.audit = log } }

// WithMetrics counts streams, messages, findings and decisions into m.
func WithMetrics(m Metrics) Option { return func(s *Server) { s.metrics = m } }
