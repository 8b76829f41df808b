package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/mcpgate/mcpgate/extproc"
)

// The fault tests run real Envoy, real mcpgate and a raw HTTP backend;
// docs/operations.md "Faults" lists each outcome. Envoy's message_timeout is cut
// from 5 s to 300 ms here so that timeouts show quickly.
const (
	faultTimeout = 300 * time.Millisecond
	toolCall     = `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hi"}}}`
	resultEvent  = "event: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"content\":[{\"type\":\"text\",\"text\":\"part\"}]}}\n\n"
)

var shortTimeout = []string{"message_timeout: 5s", fmt.Sprintf("message_timeout: %gs", faultTimeout.Seconds())}

// faultBackend serves the wire shapes the faults need and reports on
// cancelled when Envoy gives up on an upstream request.
func faultBackend(t *testing.T) (port int, cancelled <-chan string, hits func() int) {
	ch := make(chan string, 16)
	var n atomic.Int32
	count := func() { n.Add(1) }
	mux := http.NewServeMux()
	// /hang-sse sends one event, then holds the stream open until Envoy
	// cancels it (or 10 s pass).
	mux.HandleFunc("/hang-sse", func(w http.ResponseWriter, r *http.Request) {
		count()
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, resultEvent)
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
			ch <- "/hang-sse"
		case <-time.After(10 * time.Second):
		}
	})
	// /slow-json answers after three message timeouts.
	mux.HandleFunc("/slow-json", func(w http.ResponseWriter, r *http.Request) {
		count()
		io.Copy(io.Discard, r.Body)
		time.Sleep(3 * faultTimeout)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"late but fine"}]}}`)
	})
	// /slow-sse sends three events three message timeouts apart.
	mux.HandleFunc("/slow-sse", func(w http.ResponseWriter, r *http.Request) {
		count()
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "text/event-stream")
		for i := range 3 {
			time.Sleep(3 * faultTimeout)
			fmt.Fprintf(w, "event: message\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{\"progressToken\":\"t\",\"progress\":%d}}\n\n", i)
			w.(http.Flusher).Flush()
		}
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	port, _ = strconv.Atoi(u.Port())
	return port, ch, func() int { return int(n.Load()) }
}

// openStreams counts the ext_proc streams this process is serving.
func openStreams() int {
	var b bytes.Buffer
	pprof.Lookup("goroutine").WriteTo(&b, 2)
	return strings.Count(b.String(), "extproc.(*Server).Process(")
}

// waitStreams waits until no ext_proc stream is open, failing after 5 s.
func waitStreams(t *testing.T) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if openStreams() == 0 {
			return
		}
	}
	t.Errorf("%d ext_proc streams still open 5 s after the exchange ended", openStreams())
}

func post(t *testing.T, client *http.Client, u, body string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", u, err)
	}
	return resp
}

// TestFaultClientDisconnects: the agent drops an SSE response mid-stream.
// Envoy cancels the upstream request and the ext_proc stream; mcpgate's
// stream ends and nothing is logged as an error.
func TestFaultClientDisconnects(t *testing.T) {
	envoyBinary(t)
	backend, cancelled, _ := faultBackend(t)
	port, logs, _ := startMcpgate(t, "--mode", "active")
	gw := startEnvoy(t, backend, port)

	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp := post(t, client, gw+"/hang-sse", toolCall)
	line, err := bufio.NewReader(resp.Body).ReadString('\n')
	if err != nil || line != "event: message\n" {
		t.Fatalf("first line %q, %v", line, err)
	}
	if n := openStreams(); n != 1 {
		t.Errorf("%d ext_proc streams open during the exchange, want 1", n)
	}
	resp.Body.Close() // the agent goes away
	select {
	case <-cancelled:
	case <-time.After(5 * time.Second):
		t.Error("the backend's request was not cancelled")
	}
	waitStreams(t)
	if strings.Contains(logs.String(), `"level":"ERROR"`) {
		t.Errorf("a client disconnect logged an error:\n%s", logs.String())
	}
}

// TestFaultSlowBackend: message_timeout bounds mcpgate's replies, not the
// backend: a response or SSE events arriving after several timeouts pass.
func TestFaultSlowBackend(t *testing.T) {
	envoyBinary(t)
	backend, _, _ := faultBackend(t)
	port, _, _ := startMcpgate(t, "--mode", "active")
	gw := startEnvoy(t, backend, port, shortTimeout...)
	for _, tt := range []struct{ path, want string }{
		{"/slow-json", "late but fine"},
		{"/slow-sse", `"progress":2`},
	} {
		resp := post(t, http.DefaultClient, gw+tt.path, toolCall)
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK || !strings.Contains(string(body), tt.want) {
			t.Errorf("%s: status %d, %q, %v", tt.path, resp.StatusCode, body, err)
		}
	}
	waitStreams(t)
}

// slowAt delays mcpgate's reply to one kind of ext_proc message past
// Envoy's message_timeout: an interceptor around the real processor.
func slowAt(kind string) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		return handler(srv, &delayStream{ServerStream: ss, kind: kind})
	}
}

type delayStream struct {
	grpc.ServerStream
	kind string
	last string
}

func (d *delayStream) RecvMsg(m any) error {
	err := d.ServerStream.RecvMsg(m)
	if req, ok := m.(*extprocv3.ProcessingRequest); ok {
		d.last = fmt.Sprintf("%T", req.Request)
	}
	return err
}

func (d *delayStream) SendMsg(m any) error {
	if strings.HasSuffix(d.last, d.kind) {
		time.Sleep(3 * faultTimeout)
	}
	return d.ServerStream.SendMsg(m)
}

// startSlowMcpgate serves the real processor behind slowAt(kind).
func startSlowMcpgate(t *testing.T, kind string) (int, *syncBuffer) {
	t.Helper()
	p := extproc.DefaultPolicy()
	p.Mode = extproc.Active
	p.Pinning.Disabled = true
	logs := &syncBuffer{}
	proc, err := extproc.NewServer(context.Background(), p, slog.New(slog.NewJSONHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer(grpc.StreamInterceptor(slowAt(kind)))
	extprocv3.RegisterExternalProcessorServer(gs, proc)
	go gs.Serve(lis)
	t.Cleanup(func() { gs.Stop(); proc.Close() })
	return lis.Addr().(*net.TCPAddr).Port, logs
}

// TestFaultMessageTimeout: mcpgate answers later than message_timeout.
// Envoy fails closed (failure_mode_allow false) and resets the ext_proc
// stream; mcpgate's late reply fails quietly and its stream ends.
func TestFaultMessageTimeout(t *testing.T) {
	envoyBinary(t)
	for _, tt := range []struct {
		name, kind, path string
		status           int
		backendHits      int
	}{
		// Late on the request body: 504, the backend never sees the call.
		{"request body", "RequestBody", "/slow-json", http.StatusGatewayTimeout, 0},
		// Late on a JSON response body (buffered, nothing sent yet): 504.
		{"json response body", "ResponseBody", "/slow-json", http.StatusGatewayTimeout, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			backend, _, hits := faultBackend(t)
			port, logs := startSlowMcpgate(t, tt.kind)
			gw := startEnvoy(t, backend, port, shortTimeout...)
			resp := post(t, http.DefaultClient, gw+tt.path, toolCall)
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.status || strings.Contains(string(body), "late but fine") {
				t.Errorf("status %d body %q, want %d and no backend text", resp.StatusCode, body, tt.status)
			}
			if got := hits(); got != tt.backendHits {
				t.Errorf("backend hit %d times, want %d", got, tt.backendHits)
			}
			waitStreams(t)
			if strings.Contains(logs.String(), `"level":"ERROR"`) {
				t.Errorf("a timeout logged an error:\n%s", logs.String())
			}
		})
	}
	// Late on an SSE chunk after the headers went out: the agent gets the
	// 200 and a stream cut before the late event; no unjudged byte passes.
	t.Run("sse response body", func(t *testing.T) {
		backend, _, _ := faultBackend(t)
		port, _ := startSlowMcpgate(t, "ResponseBody")
		gw := startEnvoy(t, backend, port, shortTimeout...)
		resp := post(t, http.DefaultClient, gw+"/hang-sse", toolCall)
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || err == nil || len(body) != 0 {
			t.Errorf("status %d, %d bytes %q, err %v; want 200, nothing, a cut stream", resp.StatusCode, len(body), body, err)
		}
		waitStreams(t)
	})
}

// TestFaultStreamReset: the ext_proc stream is reset mid-exchange (Envoy
// restarting, or its connection to mcpgate dropped): the stream's state is
// released and mcpgate goes on serving new streams.
func TestFaultStreamReset(t *testing.T) {
	port, logs, _ := startMcpgate(t, "--mode", "active")
	conn, err := grpc.NewClient(fmt.Sprintf("127.0.0.1:%d", port), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	pc := extprocv3.NewExternalProcessorClient(conn)
	sse := &corev3.HeaderMap{Headers: []*corev3.HeaderValue{{Key: "content-type", RawValue: []byte("text/event-stream")}}}
	exchange := []*extprocv3.ProcessingRequest{
		{Request: &extprocv3.ProcessingRequest_RequestBody{RequestBody: &extprocv3.HttpBody{Body: []byte(toolCall), EndOfStream: true}}},
		{Request: &extprocv3.ProcessingRequest_ResponseHeaders{ResponseHeaders: &extprocv3.HttpHeaders{Headers: sse}}},
		{Request: &extprocv3.ProcessingRequest_ResponseBody{ResponseBody: &extprocv3.HttpBody{Body: []byte(resultEvent[:20])}}},
	}
	for i := range 50 {
		ctx, cancel := context.WithCancel(context.Background())
		ps, err := pc.Process(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range exchange[:1+i%len(exchange)] { // reset after each phase in turn
			if err := ps.Send(m); err != nil {
				t.Fatal(err)
			}
			if _, err := ps.Recv(); err != nil {
				t.Fatal(err)
			}
		}
		cancel() // the reset: RST_STREAM with CANCEL
	}
	waitStreams(t)
	ps, err := pc.Process(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := ps.Send(exchange[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := ps.Recv(); err != nil {
		t.Fatalf("a new stream after the resets: %v", err)
	}
	ps.CloseSend()
	if strings.Contains(logs.String(), `"level":"ERROR"`) {
		t.Errorf("resets logged errors:\n%s", logs.String())
	}
}

// TestFaultMcpgateDown: with mcpgate not running, the bundled config
// fails closed: 500 at once, and the backend never sees the call.
func TestFaultMcpgateDown(t *testing.T) {
	envoyBinary(t)
	backend, _, hits := faultBackend(t)
	gw := startEnvoy(t, backend, freePort(t)) // nothing listens there
	resp := post(t, http.DefaultClient, gw+"/slow-json", toolCall)
	resp.Body.Close()
	if resp.StatusCode != http.StatusInternalServerError || hits() != 0 {
		t.Errorf("status %d, backend hits %d; want 500 and 0", resp.StatusCode, hits())
	}
}
