package extproc

// mediatype.go decides how a response body will be read by the clients,
// from its Content-Type header(s), as each official SDK reads it:
//
//   - Go SDK: mime.ParseMediaType of the first header; exactly
//     application/json or text/event-stream, any case.
//   - TS SDK: Headers.get, which joins repeated headers with ", ", then a
//     case-sensitive substring test, text/event-stream first.
//   - Python mcp: the joined header lowercased; a prefix test,
//     application/json first (httpx-sse then looks for the substring).
//
// mcpgate parses the body as JSON or SSE if any client would, and calls
// it ambiguous if one would read it as JSON and another as SSE. The body's
// bytes must also mean the same text to every client: the Python SDK
// decodes SSE with the header's charset, so a charset other than UTF-8
// makes the stream unjudgeable.

import (
	"mime"
	"regexp"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
)

// mediaView is how the clients read a response's content type.
type mediaView struct {
	json, sse bool   // some client parses the body as JSON / as SSE
	charset   string // a charset other than UTF-8, "" if none
	header    string // the joined header, for logs
}

func (v mediaView) ambiguous() bool { return v.json && v.sse }

var charsetParam = regexp.MustCompile(`(?i)charset\s*=\s*"?([^;,"\s]*)`)

func classifyMedia(hm *corev3.HeaderMap) mediaView {
	var all []string
	for _, h := range hm.GetHeaders() {
		if strings.EqualFold(h.Key, "content-type") {
			v := h.Value
			if len(h.RawValue) > 0 {
				v = string(h.RawValue)
			}
			all = append(all, v)
		}
	}
	if len(all) == 0 {
		return mediaView{}
	}
	joined := strings.Join(all, ", ")
	lower := strings.ToLower(joined)
	goMedia, _, _ := mime.ParseMediaType(all[0])
	tsSSE := strings.Contains(joined, "text/event-stream")
	tsJSON := !tsSSE && strings.Contains(joined, "application/json")
	pyJSON := strings.HasPrefix(lower, "application/json")
	pySSE := !pyJSON && strings.HasPrefix(lower, "text/event-stream")
	v := mediaView{
		json:   goMedia == "application/json" || tsJSON || pyJSON,
		sse:    goMedia == "text/event-stream" || tsSSE || pySSE,
		header: truncate(joined, 128),
	}
	for _, m := range charsetParam.FindAllStringSubmatch(joined, -1) {
		if cs := strings.ToLower(m[1]); cs != "utf-8" && cs != "utf8" {
			v.charset = truncate(m[1], 32)
			if v.charset == "" {
				v.charset = `""`
			}
		}
	}
	return v
}
