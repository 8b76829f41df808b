package extproc

import (
	"context"
	"encoding/json"
	"mime"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"github.com/tidwall/gjson"
	"google.golang.org/grpc/metadata"

	"github.com/mcpgate/mcpgate/envoy"
	"github.com/mcpgate/mcpgate/internal/jsondepth"
)

// PublicURLHeader and UpstreamURLHeader are gRPC initial metadata keys
// (set per route in Envoy config): the gateway's URL as clients reach it,
// including any path prefix the route strips, and the backend's own URL.
// With both, mcpgate makes a backend's OAuth protected resource metadata
// (RFC 9728) name the gateway: an MCP client checks that the metadata's
// resource is the URL it connected to, so the backend's own URL fails
// authorization through any proxy. Only URLs on the backend's own origin
// are rewritten, so a resource naming another server still fails the
// client's check, as it should. Package envoy, which writes them into the
// route config, defines them.
const (
	PublicURLHeader   = envoy.PublicURLHeader
	UpstreamURLHeader = envoy.UpstreamURLHeader
)

// resourceMetadataParam finds the resource_metadata URL in a
// WWW-Authenticate challenge (RFC 9728 §5.1).
var resourceMetadataParam = regexp.MustCompile(`(?i)\bresource_metadata\s*=\s*"([^"]*)"`)

// resourceRewriter rewrites, in one exchange, the resource_metadata URL of
// a 401's WWW-Authenticate header and the resource of a protected resource
// metadata document (a JSON answer to a GET: MCP itself answers GETs with
// SSE), keeping their paths and putting them under the public URL. It is a
// transport fix, not policy: it applies in passive mode too.
type resourceRewriter struct {
	public, upstream *url.URL // nil: not configured for this route, nothing to do
	get              bool     // the request is a GET
	form             bool     // the request body is a form (an OAuth endpoint's)
	body             []byte   // document chunks held until the whole document is here
	active           bool     // the response body is a document being rewritten
}

func newResourceRewriter(ctx context.Context) resourceRewriter {
	md, _ := metadata.FromIncomingContext(ctx)
	public, upstream := httpURL(md.Get(PublicURLHeader)), httpURL(md.Get(UpstreamURLHeader))
	if public == nil || upstream == nil {
		return resourceRewriter{}
	}
	return resourceRewriter{public: public, upstream: upstream}
}

func httpURL(v []string) *url.URL {
	if len(v) == 0 {
		return nil
	}
	u, err := url.Parse(v[0])
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil
	}
	return u
}

func (r *resourceRewriter) request(h *corev3.HeaderMap) {
	r.get = r.public != nil && headerValue(h, ":method") == "GET"
	media, _, _ := mime.ParseMediaType(headerValue(h, "content-type"))
	r.form = media == "application/x-www-form-urlencoded"
}

// oauthForm reports whether body is an OAuth form post (RFC 6749 token and
// authorization requests; a 2025-03-26 server may serve /token itself), not
// JSON-RPC. Only a body that is not JSON qualifies: one that is could be
// executed by a server that ignores the content type, so it is judged.
func (r *resourceRewriter) oauthForm(body []byte) bool {
	return r.form && !gjson.ValidBytes(body)
}

// challenge returns the rewritten WWW-Authenticate header of a response
// whose challenge names the backend's resource metadata, if any. It only
// adds a header mutation: the response is judged as any other.
func (r *resourceRewriter) challenge(h *corev3.HeaderMap) []hdr {
	challenge := headerValue(h, "www-authenticate")
	if r.public == nil || challenge == "" {
		return nil
	}
	m := resourceMetadataParam.FindStringSubmatchIndex(challenge)
	if m == nil {
		return nil
	}
	rewritten, ok := r.rewrite(challenge[m[2]:m[3]])
	if !ok {
		return nil
	}
	return []hdr{{"www-authenticate", challenge[:m[2]] + rewritten + challenge[m[3]:]}}
}

// responseHeaders asks for the body of a metadata document: a JSON answer
// to a GET (MCP answers GETs with SSE, and clients read nothing else).
func (r *resourceRewriter) responseHeaders(h *corev3.HeaderMap) (Decision, bool) {
	media, _, _ := mime.ParseMediaType(headerValue(h, "content-type"))
	if !r.get || headerValue(h, ":status") != "200" || media != "application/json" || headerValue(h, "content-encoding") != "" {
		return Decision{}, false
	}
	r.active = true
	return Decision{Mode: bodyBuffered}, true
}

// responseBody rewrites every "resource" member of the metadata document
// in place, leaving the rest byte for byte.
func (r *resourceRewriter) responseBody(b *extprocv3.HttpBody) Decision {
	r.body = append(r.body, b.Body...)
	if !b.EndOfStream {
		return Decision{Replace: true} // hold until the whole document is here
	}
	doc := r.body
	r.body = nil
	var spans [][2]int // start, end of each resource value
	if !jsondepth.Exceeds(doc, maxJSONDepthCeiling) && gjson.ValidBytes(doc) {
		gjson.ParseBytes(doc).ForEach(func(k, v gjson.Result) bool {
			if k.String() == "resource" && v.Type == gjson.String && v.Index > 0 {
				spans = append(spans, [2]int{v.Index, v.Index + len(v.Raw)})
			}
			return true
		})
	}
	out := slices.Clone(doc)
	changed := false
	for _, sp := range slices.Backward(spans) {
		rewritten, ok := r.rewrite(gjson.ParseBytes(doc[sp[0]:sp[1]]).String())
		if !ok {
			continue
		}
		quoted, _ := json.Marshal(rewritten) // a string always marshals
		out = slices.Concat(out[:sp[0]], quoted, out[sp[1]:])
		changed = true
	}
	if !changed {
		return Decision{Body: doc, ContentLength: true}
	}
	return Decision{Replace: true, Body: out, ContentLength: true}
}

// rewrite puts raw's path (and query) under the public URL if raw is on
// the backend's origin.
func (r *resourceRewriter) rewrite(raw string) (string, bool) {
	u, err := url.Parse(raw)
	if err != nil || !sameOrigin(u, r.upstream) {
		return "", false
	}
	out := *r.public
	out.Path = strings.TrimSuffix(r.public.Path, "/") + u.Path
	out.RawPath = ""
	out.RawQuery = u.RawQuery
	s := out.String()
	return s, s != raw
}

// sameOrigin compares scheme, host and port, taking every loopback name as
// one host (a backend told to be 127.0.0.1 may call itself localhost).
func sameOrigin(a, b *url.URL) bool {
	if a.Scheme != b.Scheme || port(a) != port(b) {
		return false
	}
	return strings.EqualFold(a.Hostname(), b.Hostname()) || (loopback(a.Hostname()) && loopback(b.Hostname()))
}

func port(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if u.Scheme == "https" {
		return "443"
	}
	return "80"
}

func loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
