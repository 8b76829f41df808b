package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"time"

	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/mcpgate/mcpgate/admin"
	"github.com/mcpgate/mcpgate/extproc"
	"github.com/mcpgate/mcpgate/extproc/metrics"
)

type serveFlags struct {
	listen       string
	config       string
	mode         string
	logLevel     slog.Level
	drainTimeout time.Duration
	reload       time.Duration
	admin        string
	audit        auditFlags
}

// serve runs serveIO with the audit trail's default output, stdout, going
// to stderr with the log: one stream for tests to read.
func serve(ctx context.Context, args []string, stderr io.Writer, ready chan<- net.Addr) int {
	return serveIO(ctx, args, stderr, stderr, ready)
}

// serveIO runs the ext_proc gRPC service until ctx ends, then drains open
// streams for up to --drain-timeout. The audit trail goes to stdout unless
// --audit-log names a file. ready, if set, receives the bound address once the
// server accepts connections (tests use port 0).
func serveIO(ctx context.Context, args []string, stdout, stderr io.Writer, ready chan<- net.Addr) int {
	var f serveFlags
	fs := flag.NewFlagSet("mcpgate serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.listen, "listen", "127.0.0.1:50051", "gRPC listen address for Envoy's ext_proc filter")
	fs.StringVar(&f.config, "config", "", "YAML policy file (default: passive mode, no allowlist)")
	fs.StringVar(&f.mode, "mode", "", "override the policy's mode: passive or active")
	fs.TextVar(&f.logLevel, "log-level", slog.LevelInfo, "log level: debug, info, warn, error")
	fs.DurationVar(&f.drainTimeout, "drain-timeout", 30*time.Second, "on SIGTERM, how long open streams may finish")
	fs.DurationVar(&f.reload, "reload-interval", 2*time.Second, "how often to check --config and the files it names for changes (0: never reload)")
	fs.StringVar(&f.admin, "admin", "", "admin HTTP address for /metrics, /healthz, /readyz, e.g. 127.0.0.1:9090 (default off)")
	f.audit.register(fs)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "usage: mcpgate serve [flags]\n\nRuns the Envoy ext_proc gRPC service. The audit trail goes to stdout\n(or --audit-log), the log to stderr.\n\n")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args, stdout); err != nil {
		return exitCode(err)
	}
	log := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: f.logLevel}))
	policy, err := loadPolicy(f)
	if err != nil {
		fmt.Fprintf(stderr, "mcpgate serve: %v\n", err)
		return 2
	}
	auditOut, err := f.audit.open(stdout)
	if err != nil {
		fmt.Fprintf(stderr, "mcpgate serve: %v\n", err)
		return 2
	}
	defer auditOut.Close()
	var deps *admin.Deps
	var auditW io.Writer = &reportingWriter{w: auditOut, log: log}
	var opts []extproc.Option
	var prom *metrics.Prometheus
	if f.admin != "" {
		prom = metrics.New()
		deps = &admin.Deps{Metrics: prom.Handler(), View: &admin.View{}}
		auditW = io.MultiWriter(auditOut, deps.View)
		opts = append(opts, extproc.WithMetrics(prom))
	}
	opts = append(opts, extproc.WithAudit(extproc.NewAuditLogger(auditW)))
	proc, err := extproc.NewServer(ctx, policy, log, opts...)
	if err != nil {
		fmt.Fprintf(stderr, "mcpgate serve: %v\n", err)
		return 2
	}
	defer proc.Close()
	if deps != nil {
		deps.Mode = func() string { return string(proc.Policy().Mode) }
		prom.ScoresFrom(func() map[string]float64 {
			out := map[string]float64{}
			for b, r := range proc.Scores() {
				out[b] = float64(r.Score)
			}
			return out
		})
		deps.Scores = func() map[string]admin.BackendScore {
			out := map[string]admin.BackendScore{}
			for b, r := range proc.Scores() {
				out[b] = admin.BackendScore{Score: float64(r.Score), Grade: string(r.Grade)}
			}
			return out
		}
	}
	if f.config != "" && f.reload > 0 {
		go watchPolicy(ctx, f, proc, log)
	}
	if err := runServer(ctx, f, proc, policy, log, ready, deps); err != nil {
		log.Error("server failed", "err", err)
		return 1
	}
	return 0
}

func loadPolicy(f serveFlags) (extproc.Policy, error) {
	p := extproc.DefaultPolicy()
	if f.config != "" {
		var err error
		if p, err = extproc.LoadPolicy(f.config); err != nil {
			return p, err
		}
	}
	if f.mode != "" {
		p.ForceMode(extproc.Mode(f.mode))
	}
	if err := p.Validate(); err != nil {
		return p, fmt.Errorf("policy: %w", err)
	}
	return p, nil
}

func runServer(ctx context.Context, f serveFlags, proc *extproc.Server, p extproc.Policy, log *slog.Logger, ready chan<- net.Addr, deps *admin.Deps) error {
	lis, err := net.Listen("tcp", f.listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	gs := grpc.NewServer(grpc.MaxRecvMsgSize(proc.MaxRecvMsgSize()))
	extprocv3.RegisterExternalProcessorServer(gs, proc)
	hs := health.NewServer()
	healthpb.RegisterHealthServer(gs, hs)
	hs.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	hs.SetServingStatus(extprocv3.ExternalProcessor_ServiceDesc.ServiceName, healthpb.HealthCheckResponse_SERVING)
	if deps != nil {
		stopAdmin, err := admin.Start(f.admin, admin.Handler(deps, hs), log)
		if err != nil {
			return err
		}
		defer stopAdmin()
	}

	errc := make(chan error, 1)
	go func() { errc <- gs.Serve(lis) }()
	log.Info("mcpgate serving", "addr", lis.Addr().String(), "mode", p.Mode, "max_body_bytes", p.MaxBodyBytes,
		"detectors", !p.Detectors.Disabled, "withhold_severity", p.Detectors.WithholdSeverity.String(),
		"pinning", !p.Pinning.Disabled)
	if ready != nil {
		ready <- lis.Addr()
	}
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	hs.Shutdown() // tell health checkers first, so Envoy stops sending new streams
	log.Info("draining", "timeout", f.drainTimeout.String())
	done := make(chan struct{})
	go func() { gs.GracefulStop(); close(done) }()
	select {
	case <-done:
	case <-time.After(f.drainTimeout):
		// Long-lived SSE streams would hold GracefulStop forever.
		log.Warn("drain timeout: closing remaining streams")
		gs.Stop()
	}
	if err := <-errc; err != nil && !errors.Is(err, grpc.ErrServerStopped) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}
