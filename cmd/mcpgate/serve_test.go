package main

import (
	"context"
	"net"
	"testing"
	"time"

	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

func body(s string) *extprocv3.ProcessingRequest {
	return &extprocv3.ProcessingRequest{Request: &extprocv3.ProcessingRequest_RequestBody{
		RequestBody: &extprocv3.HttpBody{Body: []byte(s), EndOfStream: true}}}
}

// TestGracefulStop checks that on shutdown the health service stops
// reporting SERVING, an open stream may still finish, and a stream that
// never ends is cut at the drain timeout.
func TestGracefulStop(t *testing.T) {
	t.Setenv("XDG_STATE_HOME", t.TempDir()) // the default pin store
	for _, tc := range []struct {
		name       string
		finishOpen bool
	}{{"open stream finishes", true}, {"open stream cut at timeout", false}} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			ready := make(chan net.Addr, 1)
			done := make(chan int, 1)
			logs := &syncBuffer{}
			go func() {
				done <- serve(ctx, []string{"--listen", "127.0.0.1:0", "--drain-timeout", "500ms"}, logs, ready)
			}()
			addr := (<-ready).String()
			conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			health := healthpb.NewHealthClient(conn)
			if r, err := health.Check(context.Background(), &healthpb.HealthCheckRequest{}); err != nil || r.Status != healthpb.HealthCheckResponse_SERVING {
				t.Fatalf("health before shutdown: %v %v", r, err)
			}
			stream, err := extprocv3.NewExternalProcessorClient(conn).Process(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if err := stream.Send(body(`{"jsonrpc":"2.0","id":1,"method":"ping"}`)); err != nil {
				t.Fatal(err)
			}
			if _, err := stream.Recv(); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			cancel()
			time.Sleep(100 * time.Millisecond)
			if tc.finishOpen {
				// The stream opened before shutdown is still served.
				if err := stream.Send(body(`{"jsonrpc":"2.0","id":2,"method":"ping"}`)); err != nil {
					t.Fatalf("send during drain: %v", err)
				}
				if _, err := stream.Recv(); err != nil {
					t.Fatalf("recv during drain: %v", err)
				}
				stream.CloseSend()
			}
			select {
			case code := <-done:
				if code != 0 {
					t.Fatalf("exit %d: %s", code, logs.String())
				}
			case <-time.After(5 * time.Second):
				t.Fatal("serve did not stop")
			}
			elapsed := time.Since(start)
			if tc.finishOpen && elapsed >= 500*time.Millisecond {
				t.Errorf("drain took %v although the stream finished", elapsed)
			}
			if !tc.finishOpen && elapsed < 500*time.Millisecond {
				t.Errorf("stopped after %v, before the drain timeout", elapsed)
			}
		})
	}
}
