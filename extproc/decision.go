package extproc

import (
	"strconv"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	filterv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
)

// bodyMode is the response body mode mcpgate asks Envoy for, per response.
type bodyMode int

const (
	bodyNone     bodyMode = iota // do not send the body: nothing to inspect
	bodyBuffered                 // one message with the whole body (JSON)
	bodyStreamed                 // one message per chunk (SSE)
)

// Decision is what a phase of the state machine concludes, without any
// Envoy types: the zero value passes the message on unchanged.
type Decision struct {
	// Replace swaps the body (or this chunk) for Body; an empty Body holds
	// the chunk back.
	Replace bool
	Body    []byte
	// ContentLength sets the content-length header to len(Body), whether
	// or not the body is replaced; Envoy refuses a mismatched length (notes §2).
	ContentLength bool
	RemoveHeaders []string
	SetHeaders    []hdr
	// Reject answers the client directly; the request never reaches the
	// backend (request phase) or the response is dropped (headers phase).
	Reject *Reject
	// Mode, in a response-headers decision, picks the body mode.
	Mode bodyMode
}

// Reject is a local reply.
type Reject struct {
	Status  int
	Body    []byte // JSON-RPC error (or batch of them)
	Details string // shows in Envoy's access log
}

// hdr is a header to set.
type hdr struct{ key, value string }

// toProcessingResponse translates a decision for the phase it answers.
func (d Decision) toProcessingResponse(phase phase) *extprocv3.ProcessingResponse {
	if d.Reject != nil {
		return &extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_ImmediateResponse{
			ImmediateResponse: &extprocv3.ImmediateResponse{
				Status: &typev3.HttpStatus{Code: typev3.StatusCode(d.Reject.Status)},
				Headers: &extprocv3.HeaderMutation{SetHeaders: []*corev3.HeaderValueOption{
					header("content-type", "application/json"),
				}},
				Body:    d.Reject.Body,
				Details: d.Reject.Details,
			},
		}}
	}
	common := &extprocv3.CommonResponse{}
	if d.Replace {
		common.BodyMutation = &extprocv3.BodyMutation{Mutation: &extprocv3.BodyMutation_Body{Body: nonNil(d.Body)}}
	}
	if d.ContentLength || len(d.RemoveHeaders) > 0 || len(d.SetHeaders) > 0 {
		hm := &extprocv3.HeaderMutation{RemoveHeaders: d.RemoveHeaders}
		if d.ContentLength {
			hm.SetHeaders = append(hm.SetHeaders, header("content-length", strconv.Itoa(len(d.Body))))
		}
		for _, h := range d.SetHeaders {
			hm.SetHeaders = append(hm.SetHeaders, header(h.key, h.value))
		}
		common.HeaderMutation = hm
	}
	resp := &extprocv3.ProcessingResponse{}
	switch phase {
	case phaseRequestHeaders:
		resp.Response = &extprocv3.ProcessingResponse_RequestHeaders{RequestHeaders: &extprocv3.HeadersResponse{Response: common}}
	case phaseRequestBody:
		resp.Response = &extprocv3.ProcessingResponse_RequestBody{RequestBody: &extprocv3.BodyResponse{Response: common}}
	case phaseResponseHeaders:
		resp.Response = &extprocv3.ProcessingResponse_ResponseHeaders{ResponseHeaders: &extprocv3.HeadersResponse{Response: common}}
		resp.ModeOverride = d.Mode.override()
	case phaseResponseBody:
		resp.Response = &extprocv3.ProcessingResponse_ResponseBody{ResponseBody: &extprocv3.BodyResponse{Response: common}}
	case phaseRequestTrailers:
		resp.Response = &extprocv3.ProcessingResponse_RequestTrailers{RequestTrailers: &extprocv3.TrailersResponse{}}
	case phaseResponseTrailers:
		resp.Response = &extprocv3.ProcessingResponse_ResponseTrailers{ResponseTrailers: &extprocv3.TrailersResponse{}}
	}
	return resp
}

func (m bodyMode) override() *filterv3.ProcessingMode {
	pm := &filterv3.ProcessingMode{
		RequestHeaderMode:   filterv3.ProcessingMode_SKIP,
		ResponseHeaderMode:  filterv3.ProcessingMode_SKIP,
		RequestTrailerMode:  filterv3.ProcessingMode_SKIP,
		ResponseTrailerMode: filterv3.ProcessingMode_SKIP,
	}
	switch m {
	case bodyBuffered:
		pm.ResponseBodyMode = filterv3.ProcessingMode_BUFFERED
	case bodyStreamed:
		pm.ResponseBodyMode = filterv3.ProcessingMode_STREAMED
	default:
		pm.ResponseBodyMode = filterv3.ProcessingMode_NONE
	}
	return pm
}

func header(key, value string) *corev3.HeaderValueOption {
	return &corev3.HeaderValueOption{
		Header:       &corev3.HeaderValue{Key: key, RawValue: []byte(value)},
		AppendAction: corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD,
	}
}

// nonNil keeps an empty replacement distinguishable from "no body set" on
// the wire: an empty body holds an SSE chunk back.
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}
