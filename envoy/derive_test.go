package envoy_test

import (
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/mcpgate/mcpgate/envoy"
)

func TestDerive(t *testing.T) {
	mustURL := func(s string) *url.URL {
		u, err := url.Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	const (
		listener = "staticResources.listeners.0"
		hcm      = listener + ".filterChains.0.filters.0.typedConfig"
		routes   = hcm + ".routeConfig.virtualHosts.0.routes"
		backend  = `staticResources.clusters.#(name=="mcp_backend")`
		mcpgate  = `staticResources.clusters.#(name=="mcpgate")`
	)
	tests := []struct {
		name    string
		opts    envoy.Options
		want    map[string]string // gjson path → value ("" = absent)
		wantErr string
	}{
		{name: "bundled", opts: envoy.Options{}, want: map[string]string{
			listener + ".address.socketAddress.portValue":                                                        "10000",
			"admin.address.socketAddress.portValue":                                                              "9901",
			backend + ".loadAssignment.endpoints.0.lbEndpoints.0.endpoint.address.socketAddress.portValue":       "8080",
			hcm + ".httpFilters.0.name":                                                                          "envoy.filters.http.ext_proc",
			routes + ".0.typedPerFilterConfig.envoy\\.filters\\.http\\.ext_proc.overrides.grpcInitialMetadata.#": "1",
		}},
		{name: "addresses", opts: envoy.Options{Listen: "127.0.0.1:0", Admin: "127.0.0.1:19901", ExtProc: "127.0.0.1:50999",
			Upstream: mustURL("http://127.0.0.1:3001/mcp")}, want: map[string]string{
			listener + ".address.socketAddress.portValue":                                                  "0",
			"admin.address.socketAddress.portValue":                                                        "19901",
			backend + ".loadAssignment.endpoints.0.lbEndpoints.0.endpoint.address.socketAddress.address":   "127.0.0.1",
			backend + ".loadAssignment.endpoints.0.lbEndpoints.0.endpoint.address.socketAddress.portValue": "3001",
			backend + ".type":            "STATIC",
			backend + ".transportSocket": "",
			mcpgate + ".loadAssignment.endpoints.0.lbEndpoints.0.endpoint.address.socketAddress.portValue": "50999",
			routes + ".1.route.autoHostRewrite": "",
		}},
		{name: "https upstream by name", opts: envoy.Options{Upstream: mustURL("https://mcp.example.com/mcp"), CAFile: testCA(t)},
			want: map[string]string{
				backend + ".type": "STRICT_DNS",
				backend + ".loadAssignment.endpoints.0.lbEndpoints.0.endpoint.address.socketAddress.address":                          "mcp.example.com",
				backend + ".loadAssignment.endpoints.0.lbEndpoints.0.endpoint.address.socketAddress.portValue":                        "443",
				backend + ".transportSocket.typedConfig.sni":                                                                          "mcp.example.com",
				backend + ".transportSocket.typedConfig.commonTlsContext.validationContext.matchTypedSubjectAltNames.0.matcher.exact": "mcp.example.com",
				routes + ".1.route.autoHostRewrite":                                                                                   "true",
			}},
		{name: "plain router", opts: envoy.Options{PlainRouter: true, PublicURL: "http://gw:1"}, want: map[string]string{
			hcm + ".httpFilters.#":             "1",
			hcm + ".httpFilters.0.name":        "envoy.filters.http.router",
			routes + ".0.typedPerFilterConfig": "",
			"staticResources.clusters.#":       "1",
			routes + ".0.route.prefixRewrite":  "/",
			hcm + ".streamIdleTimeout":         "3600s",
		}},
		{name: "public url per route", opts: envoy.Options{PublicURL: "https://gw.example/", Upstream: mustURL("http://127.0.0.1:3001/mcp")}, want: map[string]string{
			hcm + `.httpFilters.0.typedConfig.grpcService.initialMetadata.#(key=="x-mcpgate-upstream-url").value`:                                  "http://127.0.0.1:3001",
			routes + `.0.typedPerFilterConfig.envoy\.filters\.http\.ext_proc.overrides.grpcInitialMetadata.#(key=="x-mcpgate-upstream-url").value`: "http://127.0.0.1:3001",
			hcm + `.httpFilters.0.typedConfig.grpcService.initialMetadata.#(key=="x-mcpgate-public-url").value`:                                    "https://gw.example/",
			routes + `.0.typedPerFilterConfig.envoy\.filters\.http\.ext_proc.overrides.grpcInitialMetadata.#(key=="x-mcpgate-public-url").value`:   "https://gw.example/strict",
			routes + `.0.typedPerFilterConfig.envoy\.filters\.http\.ext_proc.overrides.grpcInitialMetadata.#(key=="x-mcpgate-backend").value`:      "strict",
		}},
		{name: "bad scheme", opts: envoy.Options{Upstream: mustURL("ftp://h/")}, wantErr: "scheme must be http or https"},
		{name: "credentials", opts: envoy.Options{Upstream: mustURL("http://u:secret@h/")}, wantErr: "credentials"},
		{name: "bad listen", opts: envoy.Options{Listen: "127.0.0.1:99999"}, wantErr: "listen address"},
		{name: "missing CA", opts: envoy.Options{Upstream: mustURL("https://h/"), CAFile: "/nonexistent/ca.pem"}, wantErr: "CA bundle"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := envoy.Derive(tt.opts)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "secret") {
					t.Errorf("error leaks the URL's password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for path, want := range tt.want {
				if got := gjson.GetBytes(out, path).String(); got != want {
					t.Errorf("%s = %q, want %q", path, got, want)
				}
			}
			var doc any
			if err := json.Unmarshal(out, &doc); err != nil {
				t.Fatal(err)
			}
			t.Run("proto", func(t *testing.T) {
				if err := validateBootstrap(doc); err != nil {
					t.Error(err)
				}
			})
			t.Run("envoy", func(t *testing.T) {
				file := filepath.Join(t.TempDir(), "envoy.json")
				if err := os.WriteFile(file, out, 0o600); err != nil {
					t.Fatal(err)
				}
				envoyValidate(t, file)
			})
		})
	}
}

// testCA writes a CA certificate that Envoy can load and returns its path.
func testCA(t *testing.T) string {
	srv := httptest.NewTLSServer(http.NotFoundHandler())
	defer srv.Close()
	file := filepath.Join(t.TempDir(), "ca.pem")
	data := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}
