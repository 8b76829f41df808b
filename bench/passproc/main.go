// Command passproc is the load test's baseline ext_proc processor: it asks
// Envoy for everything a naive "see every byte" processor would (request
// and response headers, the request body buffered, the response body
// buffered for JSON and streamed for SSE, as mcpgate does) and answers
// CONTINUE to every message without looking at it. Its cost is the floor
// for any ext_proc design with these phases; see bench/README.md.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"mime"
	"net"
	"os"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	filterv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:50052", "gRPC listen address")
	flag.Parse()
	lis, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintln(os.Stderr, "passproc:", err)
		os.Exit(1)
	}
	gs := grpc.NewServer(grpc.MaxRecvMsgSize(16 << 20))
	extprocv3.RegisterExternalProcessorServer(gs, passAll{})
	if err := gs.Serve(lis); err != nil {
		fmt.Fprintln(os.Stderr, "passproc:", err)
		os.Exit(1)
	}
}

type passAll struct {
	extprocv3.UnimplementedExternalProcessorServer
}

func (passAll) Process(ps extprocv3.ExternalProcessor_ProcessServer) error {
	for {
		req, err := ps.Recv()
		if errors.Is(err, io.EOF) || status.Code(err) == codes.Canceled {
			return nil
		}
		if err != nil {
			return err
		}
		if err := ps.Send(reply(req)); err != nil {
			return nil
		}
	}
}

// reply is CONTINUE for the phase req belongs to; response headers also
// pick the body mode, which the bundled config leaves at NONE.
func reply(req *extprocv3.ProcessingRequest) *extprocv3.ProcessingResponse {
	cont := &extprocv3.CommonResponse{}
	switch r := req.Request.(type) {
	case *extprocv3.ProcessingRequest_RequestHeaders:
		return &extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_RequestHeaders{
			RequestHeaders: &extprocv3.HeadersResponse{Response: cont}}}
	case *extprocv3.ProcessingRequest_RequestBody:
		return &extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_RequestBody{
			RequestBody: &extprocv3.BodyResponse{Response: cont}}}
	case *extprocv3.ProcessingRequest_ResponseHeaders:
		return &extprocv3.ProcessingResponse{
			Response: &extprocv3.ProcessingResponse_ResponseHeaders{
				ResponseHeaders: &extprocv3.HeadersResponse{Response: cont}},
			ModeOverride: bodyMode(r.ResponseHeaders.GetHeaders()),
		}
	case *extprocv3.ProcessingRequest_ResponseBody:
		return &extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_ResponseBody{
			ResponseBody: &extprocv3.BodyResponse{Response: cont}}}
	case *extprocv3.ProcessingRequest_RequestTrailers:
		return &extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_RequestTrailers{
			RequestTrailers: &extprocv3.TrailersResponse{}}}
	default:
		return &extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_ResponseTrailers{
			ResponseTrailers: &extprocv3.TrailersResponse{}}}
	}
}

// bodyMode streams SSE (buffering would break it) and buffers the rest.
func bodyMode(hm *corev3.HeaderMap) *filterv3.ProcessingMode {
	mode := filterv3.ProcessingMode_BUFFERED
	for _, h := range hm.GetHeaders() {
		if strings.EqualFold(h.Key, "content-type") {
			v := h.Value
			if len(h.RawValue) > 0 {
				v = string(h.RawValue)
			}
			if media, _, _ := mime.ParseMediaType(v); media == "text/event-stream" {
				mode = filterv3.ProcessingMode_STREAMED
			}
		}
	}
	return &filterv3.ProcessingMode{ResponseBodyMode: mode}
}
