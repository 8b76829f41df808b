package extproc

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// BackendHeader is the gRPC initial metadata key naming a route's backend
// policy; set it per route with ExtProcPerRoute grpc_initial_metadata.
const BackendHeader = "x-mcpgate-backend"

// Server implements envoy.service.ext_proc.v3.ExternalProcessor.
type Server struct {
	extprocv3.UnimplementedExternalProcessorServer
	cur    atomic.Pointer[snapshot] // what new streams use; Reload swaps it
	pins   *pinGuard                // shared pin state; nil: pinning off
	scores *scoreBoard              // shared scores
	// refusals are the legacy SSE refusals waiting for their session's
	// stream (refusals.go); they outlive reloads like the pins.
	refusals *refusalBook
	log      *slog.Logger
	// bodyLimit is the largest body the gRPC server was sized for.
	bodyLimit int
	reloading sync.Mutex
	audit     *slog.Logger // the audit trail; default log
	metrics   Metrics
}

// NewServer returns a processor applying p, or an error if p is invalid
// or its pin store cannot be opened. Close releases the store.
func NewServer(ctx context.Context, p Policy, log *slog.Logger, opts ...Option) (*Server, error) {
	snap, err := newSnapshot(p)
	if err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	pins, err := newPinGuard(ctx, snap.policy)
	if err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	scores := newScoreBoard(snap.scoring)
	snap.pins, snap.scores = pins, scores
	srv := &Server{pins: pins, scores: scores, refusals: newRefusalBook(), log: log, bodyLimit: snap.policy.LargestBody(),
		audit: log, metrics: nopMetrics{}}
	srv.cur.Store(snap)
	for _, o := range opts {
		o(srv)
	}
	srv.warnExpired(snap.policy)
	return srv, nil
}

// Close releases the pin store.
func (srv *Server) Close() error { return srv.pins.Close() }

// Process runs the gRPC loop for one HTTP exchange; the per-stream state
// machine decides each reply.
func (srv *Server) Process(ps extprocv3.ExternalProcessor_ProcessServer) error {
	ctx := ps.Context()
	st := srv.open(ctx)
	for {
		req, err := ps.Recv()
		if errors.Is(err, io.EOF) || status.Code(err) == codes.Canceled {
			return nil // Envoy ends streams by cancelling them
		}
		if err != nil {
			srv.metrics.Error("receive")
			return fmt.Errorf("receive: %w", err)
		}
		start := time.Now()
		resp, err := st.handle(ctx, req)
		srv.metrics.Phase(phaseName(req), time.Since(start))
		if err != nil {
			srv.metrics.Error("protocol")
			st.log.ErrorContext(ctx, "cannot process message", "err", err)
			return status.Error(codes.FailedPrecondition, err.Error())
		}
		st.attachMetadata(resp)
		if err := ps.Send(resp); err != nil {
			if status.Code(err) == codes.Canceled {
				return nil
			}
			srv.metrics.Error("send")
			return fmt.Errorf("send: %w", err)
		}
	}
}

// open starts a stream on the policy snapshot in force: the stream reads
// that snapshot only, whatever reloads happen while it is open.
func (srv *Server) open(ctx context.Context) *stream {
	snap := srv.cur.Load()
	st := newStream(streamID(), srv.log, &snap.policy, snap.scanner, backendOf(ctx))
	st.pins, st.scores, st.refusals = snap.pins, snap.scores, srv.refusals
	st.audit.log, st.audit.metrics = srv.audit, srv.metrics
	srv.metrics.StreamStarted(st.backend)
	st.oauth = newResourceRewriter(ctx)
	return st
}

func backendOf(ctx context.Context) string {
	md, _ := metadata.FromIncomingContext(ctx)
	if v := md.Get(BackendHeader); len(v) > 0 && v[0] != "" {
		return v[0]
	}
	return DefaultBackend
}

func streamID() string {
	var b [6]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b[:])
}
