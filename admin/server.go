// Package admin serves mcpgate's admin listener: the read-only dashboard
// of recent audit records (dashboard.go), /metrics, /healthz and /readyz.
package admin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"google.golang.org/grpc/health"

	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// Deps is what the admin listener shows.
type Deps struct {
	Metrics http.Handler
	View    *View
	Mode    func() string                  // the policy's mode in force: reloads change it
	Scores  func() map[string]BackendScore // nil: no scores yet
}

// Handler serves the admin listener: / (a read-only page of recent
// audit records), /metrics, /healthz (the process answers) and /readyz
// (the gRPC health service reports SERVING, so it turns 503 as soon as
// draining starts, like grpc.health.v1).
func Handler(d *Deps, hs *health.Server) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /{$}", dashboard(d.Mode, d.View, d.Scores))
	mux.Handle("GET /metrics", d.Metrics)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		resp, err := hs.Check(r.Context(), &healthpb.HealthCheckRequest{})
		if err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
			http.Error(w, "not serving", http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, "ok\n")
	})
	return mux
}

// Start serves h on addr until stop is called.
func Start(addr string, h http.Handler, log *slog.Logger) (stop func(), err error) {
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("admin listen: %w", err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(lis); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("admin server failed", "err", err)
		}
	}()
	log.Info("admin serving", "addr", lis.Addr().String(), "paths", "/ /metrics /healthz /readyz")
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}, nil
}
