package envoy

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/wrapperspb"
	"gopkg.in/yaml.v3"

	// Every typed_config "@type" in envoy.yaml must be registered, or
	// protojson cannot parse it.
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/access_loggers/stream/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
)

// Names in envoy.yaml that Derive relies on.
const (
	extProcFilter  = "envoy.filters.http.ext_proc"
	backendCluster = "mcp_backend"
	mcpgateCluster = "mcpgate"
	hcmFilter      = "envoy.filters.network.http_connection_manager"
	tlsSocket      = "envoy.transport_sockets.tls"
	systemCABundle = "/etc/ssl/certs/ca-certificates.crt"
	// gRPC initial metadata for mcpgate's OAuth metadata rewriting, read
	// by extproc (its PublicURLHeader and UpstreamURLHeader are these).
	PublicURLHeader   = "x-mcpgate-public-url"   // the gateway's URL as clients see it
	UpstreamURLHeader = "x-mcpgate-upstream-url" // the backend's own URL
)

// Options say what Derive changes in the bundled config. A zero field keeps
// the bundled value.
type Options struct {
	Listen   string   // the MCP listener's host:port; port 0 lets Envoy pick
	Admin    string   // the admin interface's host:port; port 0 lets Envoy pick
	Upstream *url.URL // the MCP server: http or https, host and port (path is not used)
	CAFile   string   // CA bundle that verifies an https upstream (default: the system bundle)
	ExtProc  string   // mcpgate's gRPC host:port
	// PlainRouter removes the ext_proc filter and mcpgate's cluster: Envoy
	// routes only, as a baseline to compare mcpgate against.
	PlainRouter bool
	// PublicURL is the gateway's base URL as clients reach it. With
	// Upstream, each stream tells mcpgate the URL of its route (this plus a
	// rewritten prefix) and the upstream's origin.
	PublicURL string
}

// Derive returns the bundled config changed as o says, as a JSON bootstrap
// (Envoy reads a .json config file), validated against Envoy's schema.
func Derive(o Options) ([]byte, error) {
	b, err := parse(Bundled())
	if err != nil {
		return nil, fmt.Errorf("bundled envoy.yaml: %w", err)
	}
	if err := apply(b, o); err != nil {
		return nil, err
	}
	if err := b.ValidateAll(); err != nil {
		return nil, fmt.Errorf("derived config: %w", err)
	}
	return protojson.MarshalOptions{Indent: "  "}.Marshal(b)
}

func parse(data []byte) (*bootstrapv3.Bootstrap, error) {
	var doc map[string]any // yaml.v3 gives string keys for a map[string]any root
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	js, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	var b bootstrapv3.Bootstrap
	if err := protojson.Unmarshal(js, &b); err != nil {
		return nil, err
	}
	return &b, nil
}

func apply(b *bootstrapv3.Bootstrap, o Options) error {
	if o.Admin != "" {
		addr, err := socketAddress(o.Admin)
		if err != nil {
			return fmt.Errorf("admin address: %w", err)
		}
		b.GetAdmin().Address = addr
	}
	listeners := b.GetStaticResources().GetListeners()
	if len(listeners) != 1 || len(listeners[0].GetFilterChains()) != 1 {
		return errors.New("bundled config: want one listener with one filter chain")
	}
	if o.Listen != "" {
		addr, err := socketAddress(o.Listen)
		if err != nil {
			return fmt.Errorf("listen address: %w", err)
		}
		listeners[0].Address = addr
	}
	if o.Upstream != nil {
		if err := setUpstream(b, o.Upstream, o.CAFile); err != nil {
			return err
		}
	}
	if o.ExtProc != "" {
		if err := setEndpoint(cluster(b, mcpgateCluster), o.ExtProc); err != nil {
			return fmt.Errorf("ext_proc address: %w", err)
		}
	}
	if o.PlainRouter {
		clusters := b.GetStaticResources().GetClusters()
		for i, c := range clusters {
			if c.GetName() == mcpgateCluster {
				b.StaticResources.Clusters = append(clusters[:i], clusters[i+1:]...)
				break
			}
		}
	}
	hostRewrite := o.Upstream != nil && !isLiteralOrLocal(o.Upstream.Hostname())
	return editHCM(listeners[0].GetFilterChains()[0], func(hcm *hcmv3.HttpConnectionManager) error {
		for _, vh := range hcm.GetRouteConfig().GetVirtualHosts() {
			for _, r := range vh.GetRoutes() {
				if err := editRoute(r, o, hostRewrite); err != nil {
					return err
				}
			}
		}
		return editExtProc(hcm, o)
	})
}

// editHCM unpacks the HTTP connection manager of fc, lets edit change it and
// packs it back.
func editHCM(fc *listenerv3.FilterChain, edit func(*hcmv3.HttpConnectionManager) error) error {
	for _, f := range fc.GetFilters() {
		if f.GetName() != hcmFilter {
			continue
		}
		return editAny(f.GetTypedConfig(), &hcmv3.HttpConnectionManager{}, edit)
	}
	return errors.New("bundled config has no http_connection_manager")
}

// editAny unpacks a into m, runs edit and packs m back into a.
func editAny[M proto.Message](a *anypb.Any, m M, edit func(M) error) error {
	if err := a.UnmarshalTo(m); err != nil {
		return err
	}
	if err := edit(m); err != nil {
		return err
	}
	packed, err := anypb.New(m)
	if err != nil {
		return err
	}
	a.Value = packed.Value
	return nil
}

func editExtProc(hcm *hcmv3.HttpConnectionManager, o Options) error {
	for i, f := range hcm.GetHttpFilters() {
		if f.GetName() != extProcFilter {
			continue
		}
		if o.PlainRouter {
			hcm.HttpFilters = append(hcm.HttpFilters[:i], hcm.HttpFilters[i+1:]...)
			return nil
		}
		if o.PublicURL == "" || o.Upstream == nil {
			return nil
		}
		return editAny(f.GetTypedConfig(), &extprocv3.ExternalProcessor{}, func(ep *extprocv3.ExternalProcessor) error {
			ep.GrpcService.InitialMetadata = setURLs(ep.GrpcService.InitialMetadata, o.PublicURL, o.Upstream)
			return nil
		})
	}
	return errors.New("bundled config has no ext_proc filter")
}

func editRoute(r *routev3.Route, o Options, hostRewrite bool) error {
	if hostRewrite {
		// A remote server is virtual-hosted: it needs its own name.
		r.GetRoute().HostRewriteSpecifier = &routev3.RouteAction_AutoHostRewrite{AutoHostRewrite: wrapperspb.Bool(true)}
	}
	perRoute, ok := r.GetTypedPerFilterConfig()[extProcFilter]
	if !ok {
		return nil
	}
	if o.PlainRouter {
		delete(r.TypedPerFilterConfig, extProcFilter)
		return nil
	}
	public := routePublicURL(r, o.PublicURL)
	if public == "" || o.Upstream == nil {
		return nil
	}
	return editAny(perRoute, &extprocv3.ExtProcPerRoute{}, func(pr *extprocv3.ExtProcPerRoute) error {
		if ov := pr.GetOverrides(); ov != nil {
			ov.GrpcInitialMetadata = setURLs(ov.GrpcInitialMetadata, public, o.Upstream)
		}
		return nil
	})
}

// setURLs sets the public URL and the upstream's origin in hs.
func setURLs(hs []*corev3.HeaderValue, public string, upstream *url.URL) []*corev3.HeaderValue {
	origin := url.URL{Scheme: upstream.Scheme, Host: upstream.Host}
	return setHeader(setHeader(hs, PublicURLHeader, public), UpstreamURLHeader, origin.String())
}

// routePublicURL is base plus the part of the route's prefix that Envoy
// strips before the upstream sees the path ("/strict/" rewritten to "/"
// gives base+"/strict"), or "" when the route does not rewrite.
func routePublicURL(r *routev3.Route, base string) string {
	prefix, rewrite := r.GetMatch().GetPrefix(), r.GetRoute().GetPrefixRewrite()
	if base == "" || rewrite == "" || !strings.HasSuffix(prefix, rewrite) {
		return ""
	}
	return strings.TrimSuffix(base, "/") + strings.TrimSuffix(prefix, rewrite)
}

func setUpstream(b *bootstrapv3.Bootstrap, u *url.URL, caFile string) error {
	c := cluster(b, backendCluster)
	if c == nil {
		return fmt.Errorf("bundled config has no %s cluster", backendCluster)
	}
	port := u.Port()
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("upstream %q: scheme must be http or https", u.Redacted())
	case u.Hostname() == "":
		return fmt.Errorf("upstream %q: no host", u.Redacted())
	case u.User != nil:
		return fmt.Errorf("upstream %q: credentials in the URL are not supported", u.Redacted())
	case port == "" && u.Scheme == "https":
		port = "443"
	case port == "":
		port = "80"
	}
	if err := setEndpoint(c, net.JoinHostPort(u.Hostname(), port)); err != nil {
		return fmt.Errorf("upstream: %w", err)
	}
	if net.ParseIP(u.Hostname()) == nil {
		c.ClusterDiscoveryType = &clusterv3.Cluster_Type{Type: clusterv3.Cluster_STRICT_DNS}
		c.DnsLookupFamily = clusterv3.Cluster_V4_PREFERRED
	}
	if u.Scheme == "https" {
		return setTLS(c, u.Hostname(), caFile)
	}
	return nil
}

// setTLS makes c speak TLS to host, verifying its certificate and name.
func setTLS(c *clusterv3.Cluster, host, caFile string) error {
	if caFile == "" {
		caFile = systemCABundle
	}
	if _, err := os.Stat(caFile); err != nil {
		return fmt.Errorf("CA bundle for the https upstream: %w", err)
	}
	ctx := &tlsv3.UpstreamTlsContext{
		Sni: host,
		CommonTlsContext: &tlsv3.CommonTlsContext{
			ValidationContextType: &tlsv3.CommonTlsContext_ValidationContext{ValidationContext: &tlsv3.CertificateValidationContext{
				TrustedCa: &corev3.DataSource{Specifier: &corev3.DataSource_Filename{Filename: caFile}},
				MatchTypedSubjectAltNames: []*tlsv3.SubjectAltNameMatcher{{
					SanType: sanType(host),
					Matcher: &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: host}},
				}},
			}},
		},
	}
	packed, err := anypb.New(ctx)
	if err != nil {
		return err
	}
	c.TransportSocket = &corev3.TransportSocket{Name: tlsSocket, ConfigType: &corev3.TransportSocket_TypedConfig{TypedConfig: packed}}
	return nil
}

func sanType(host string) tlsv3.SubjectAltNameMatcher_SanType {
	if net.ParseIP(host) != nil {
		return tlsv3.SubjectAltNameMatcher_IP_ADDRESS
	}
	return tlsv3.SubjectAltNameMatcher_DNS
}

func cluster(b *bootstrapv3.Bootstrap, name string) *clusterv3.Cluster {
	for _, c := range b.GetStaticResources().GetClusters() {
		if c.GetName() == name {
			return c
		}
	}
	return nil
}

// setEndpoint points c's single endpoint at hostport.
func setEndpoint(c *clusterv3.Cluster, hostport string) error {
	eps := c.GetLoadAssignment().GetEndpoints()
	if len(eps) != 1 || len(eps[0].GetLbEndpoints()) != 1 {
		return fmt.Errorf("cluster %q: want exactly one endpoint", c.GetName())
	}
	addr, err := socketAddress(hostport)
	if err != nil {
		return err
	}
	eps[0].LbEndpoints[0].GetEndpoint().Address = addr
	return nil
}

func socketAddress(hostport string) (*corev3.Address, error) {
	host, p, err := net.SplitHostPort(hostport)
	if err != nil {
		return nil, err
	}
	port, err := strconv.ParseUint(p, 10, 16)
	if err != nil {
		return nil, fmt.Errorf("port %q: %w", p, err)
	}
	if host == "" {
		host = "0.0.0.0"
	}
	return &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
		Address:       host,
		PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: uint32(port)},
	}}}, nil
}

// setHeader sets key to value in hs, replacing an existing entry.
func setHeader(hs []*corev3.HeaderValue, key, value string) []*corev3.HeaderValue {
	for _, h := range hs {
		if h.GetKey() == key {
			h.Value = value
			return hs
		}
	}
	return append(hs, &corev3.HeaderValue{Key: key, Value: value})
}

func isLiteralOrLocal(host string) bool {
	return net.ParseIP(host) != nil || host == "localhost"
}
