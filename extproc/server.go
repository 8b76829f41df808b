package extproc

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"

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
	policy  Policy
	scanner contentScanner // nil: detectors off
	pins    *pinGuard      // nil: pinning off
	log     *slog.Logger
}

// NewServer returns a processor applying p, or an error if p is invalid
// or its pin store cannot be opened. Close releases the store.
func NewServer(ctx context.Context, p Policy, log *slog.Logger) (*Server, error) {
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	sc, err := p.newScanner()
	if err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	pins, err := newPinGuard(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	return &Server{policy: p, scanner: sc, pins: pins, log: log}, nil
}

// Close releases the pin store.
func (srv *Server) Close() error { return srv.pins.Close() }

// Process runs the gRPC loop for one HTTP exchange; the per-stream state
// machine decides each reply.
func (srv *Server) Process(ps extprocv3.ExternalProcessor_ProcessServer) error {
	ctx := ps.Context()
	st := newStream(streamID(), srv.log, &srv.policy, srv.scanner, backendOf(ctx))
	st.pins = srv.pins
	st.oauth = newResourceRewriter(ctx)
	for {
		req, err := ps.Recv()
		if errors.Is(err, io.EOF) || status.Code(err) == codes.Canceled {
			return nil // Envoy ends streams by cancelling them
		}
		if err != nil {
			return fmt.Errorf("receive: %w", err)
		}
		resp, err := st.handle(ctx, req)
		if err != nil {
			st.log.ErrorContext(ctx, "cannot process message", "err", err)
			return status.Error(codes.FailedPrecondition, err.Error())
		}
		if err := ps.Send(resp); err != nil {
			if status.Code(err) == codes.Canceled {
				return nil
			}
			return fmt.Errorf("send: %w", err)
		}
	}
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
