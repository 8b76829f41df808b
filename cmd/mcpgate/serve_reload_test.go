package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
)

// TestWatchPolicy drives a running mcpgate over gRPC, without Envoy: a
// policy edit changes what a new stream allows, an edit that does not
// parse is logged and changes nothing, and a stream opened before an edit
// keeps its policy.
func TestWatchPolicy(t *testing.T) {
	policy := filepath.Join(t.TempDir(), "policy.yaml")
	allow := func(tools string) string {
		return "mode: active\npinning: {disabled: true}\nbackends:\n  strict: {allowed_tools: " + tools + "}\n"
	}
	writeFile(t, policy, allow("[echo]"))
	port, logs, _ := startMcpgate(t, "--config", policy, "--reload-interval", "20ms")
	conn, err := grpc.NewClient(fmt.Sprintf("127.0.0.1:%d", port), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	client := extprocv3.NewExternalProcessorClient(conn)
	open := func() extprocv3.ExternalProcessor_ProcessClient {
		ctx := metadata.AppendToOutgoingContext(context.Background(), "x-mcpgate-backend", "strict")
		st, err := client.Process(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	refusesAdd := func(st extprocv3.ExternalProcessor_ProcessClient) bool {
		if err := st.Send(body(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"add"}}`)); err != nil {
			t.Fatal(err)
		}
		r, err := st.Recv()
		if err != nil {
			t.Fatal(err)
		}
		return r.GetImmediateResponse() != nil
	}
	waitLog := func(msg string, n int) {
		for deadline := time.Now().Add(5 * time.Second); strings.Count(logs.String(), msg) < n; time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("no %q in the log:\n%s", msg, logs.String())
			}
		}
	}
	early := open()
	if !refusesAdd(open()) {
		t.Fatal("add allowed before any edit")
	}
	writeFile(t, policy, allow("[echo, add]"))
	waitLog(`"msg":"policy reloaded"`, 1)
	if refusesAdd(open()) {
		t.Error("add refused after the edit allowed it")
	}
	writeFile(t, policy, "mode: [")
	waitLog(`"msg":"policy reload rejected; keeping the last good policy"`, 1)
	if refusesAdd(open()) {
		t.Error("a rejected edit changed the policy")
	}
	if !refusesAdd(early) {
		t.Error("a stream opened before the edit changed policy")
	}
}
