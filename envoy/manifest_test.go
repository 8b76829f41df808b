package envoy_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/mcpgate/mcpgate/extproc"
)

// patchTypes maps an EnvoyFilter applyTo to the Envoy message its patch
// value is.
var patchTypes = map[string]func() proto.Message{
	"LISTENER":       func() proto.Message { return &listenerv3.Listener{} },
	"FILTER_CHAIN":   func() proto.Message { return &listenerv3.FilterChain{} },
	"NETWORK_FILTER": func() proto.Message { return &listenerv3.Filter{} },
	"HTTP_FILTER":    func() proto.Message { return &hcmv3.HttpFilter{} },
	"ROUTE_CONFIGURATION": func() proto.Message {
		return &routev3.RouteConfiguration{}
	},
	"VIRTUAL_HOST": func() proto.Message { return &routev3.VirtualHost{} },
	"HTTP_ROUTE":   func() proto.Message { return &routev3.Route{} },
	"CLUSTER":      func() proto.Message { return &clusterv3.Cluster{} },
}

type manifest struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name      string            `json:"name"`
		Namespace string            `json:"namespace"`
		Labels    map[string]string `json:"labels"`
	} `json:"metadata"`
	Data map[string]string `json:"data"` // ConfigMap
	Spec json.RawMessage   `json:"spec"`
}

type envoyFilterSpec struct {
	ConfigPatches []struct {
		ApplyTo string          `json:"applyTo"`
		Match   json.RawMessage `json:"match"`
		Patch   struct {
			Operation string         `json:"operation"`
			Value     map[string]any `json:"value"`
		} `json:"patch"`
	} `json:"configPatches"`
}

// validateManifests checks Kubernetes and Istio manifests: each document
// has apiVersion, kind and name, every EnvoyFilter patch loads into the
// go-control-plane message its applyTo names (strictly, with the
// protoc-gen-validate rules of each embedded typed_config), and a ConfigMap
// holding policy.yaml loads with mcpgate's own loader.
func validateManifests(t *testing.T, file string, docs []any) {
	for i, doc := range docs {
		data, err := json.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		var m manifest
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatalf("%s document %d: %v", file, i+1, err)
		}
		if m.APIVersion == "" || m.Kind == "" || m.Metadata.Name == "" {
			t.Errorf("%s document %d: want apiVersion, kind and metadata.name", file, i+1)
			continue
		}
		switch m.Kind {
		case "EnvoyFilter":
			t.Run("envoyfilter", func(t *testing.T) {
				if err := validateEnvoyFilter(m.Spec); err != nil {
					t.Errorf("%s: %v", file, err)
				}
			})
		case "ConfigMap":
			if _, ok := m.Data["policy.yaml"]; ok {
				t.Run("policy", func(t *testing.T) { loadConfigMapPolicy(t, m.Data) })
			}
		}
	}
}

func validateEnvoyFilter(spec json.RawMessage) error {
	var s envoyFilterSpec
	if err := json.Unmarshal(spec, &s); err != nil {
		return err
	}
	if len(s.ConfigPatches) == 0 {
		return fmt.Errorf("no configPatches")
	}
	for i, p := range s.ConfigPatches {
		newMsg, ok := patchTypes[p.ApplyTo]
		if !ok {
			return fmt.Errorf("configPatches[%d]: applyTo %q is not one this test knows", i, p.ApplyTo)
		}
		data, err := json.Marshal(p.Patch.Value)
		if err != nil {
			return err
		}
		msg := newMsg()
		if err := protojson.Unmarshal(data, msg); err != nil {
			return fmt.Errorf("configPatches[%d] (%s): %w", i, p.ApplyTo, err)
		}
		// A MERGE value is a fragment (a route without its match), so the
		// message's own required fields do not apply; what it embeds must
		// still be valid.
		if p.Patch.Operation != "MERGE" {
			if v, ok := msg.(interface{ ValidateAll() error }); ok {
				if err := v.ValidateAll(); err != nil {
					return fmt.Errorf("configPatches[%d] (%s): %w", i, p.ApplyTo, err)
				}
			}
		}
		if err := validateEmbedded(msg.ProtoReflect(), fmt.Sprintf("configPatches[%d]", i)); err != nil {
			return err
		}
	}
	return nil
}

// loadConfigMapPolicy lays the ConfigMap's files out as the Deployment
// mounts them (under a temporary root) and starts mcpgate's processor on
// the policy, which reads its lockfiles and backend credentials.
func loadConfigMapPolicy(t *testing.T, data map[string]string) {
	root := t.TempDir()
	mounts := map[string]string{ // as in k8s/deployment.yaml
		"/etc/mcpgate/":             filepath.Join(root, "etc") + "/",
		"/var/run/secrets/mcpgate/": filepath.Join(root, "secrets") + "/",
		"/var/lib/mcpgate/":         filepath.Join(root, "state") + "/",
	}
	rewrite := func(s string) string {
		for from, to := range mounts {
			s = strings.ReplaceAll(s, from, to)
		}
		return s
	}
	for _, dir := range mounts {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	for key, text := range data {
		if err := os.WriteFile(filepath.Join(root, "etc", key), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	p, err := extproc.ParsePolicy([]byte(rewrite(data["policy.yaml"])))
	if err != nil {
		t.Fatalf("policy.yaml: %v", err)
	}
	// The Secret is the operator's; stand in for every credential file.
	for _, f := range p.WatchedFiles() {
		if strings.HasPrefix(f, mounts["/var/run/secrets/mcpgate/"]) {
			if err := os.WriteFile(f, []byte("test-credential"), 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	srv, err := extproc.NewServer(context.Background(), p, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatalf("policy.yaml: %v", err)
	}
	srv.Close()
	for _, f := range p.WatchedFiles() {
		if !strings.HasPrefix(f, root) {
			t.Errorf("policy.yaml names %s, outside the Deployment's mounts", f)
		}
	}
}

// TestManifestsAgree checks the references between the Kubernetes and
// Istio manifests: selectors, ports, probe ports, the mounted policy and
// the ext_proc cluster name Istio derives from the Service.
func TestManifestsAgree(t *testing.T) {
	byKind := map[string]manifest{}
	var envoyFilter, virtualService string
	for _, file := range yamlFiles(t, ".") {
		docs, err := decodeYAML(file)
		if err != nil {
			t.Fatal(err)
		}
		if !isManifest(docs[0]) {
			continue
		}
		for _, doc := range docs {
			data, _ := json.Marshal(doc)
			var m manifest
			if err := json.Unmarshal(data, &m); err != nil {
				t.Fatal(err)
			}
			byKind[m.Kind] = m
			switch m.Kind {
			case "EnvoyFilter":
				envoyFilter = string(data)
			case "VirtualService":
				virtualService = string(data)
			}
		}
	}
	for _, kind := range []string{"Deployment", "Service", "PodDisruptionBudget", "ConfigMap", "EnvoyFilter", "VirtualService"} {
		if _, ok := byKind[kind]; !ok {
			t.Fatalf("no %s manifest under envoy/", kind)
		}
	}
	var dep struct {
		Selector struct {
			MatchLabels map[string]string `json:"matchLabels"`
		} `json:"selector"`
		Template struct {
			Metadata struct {
				Labels map[string]string `json:"labels"`
			} `json:"metadata"`
			Spec struct {
				SecurityContext struct {
					RunAsNonRoot bool `json:"runAsNonRoot"`
				} `json:"securityContext"`
				Containers []struct {
					Args  []string `json:"args"`
					Ports []struct {
						Name          string `json:"name"`
						ContainerPort int    `json:"containerPort"`
					} `json:"ports"`
					ReadinessProbe, LivenessProbe struct {
						GRPC *struct {
							Port    int    `json:"port"`
							Service string `json:"service"`
						} `json:"grpc"`
					}
					VolumeMounts []struct {
						Name      string `json:"name"`
						MountPath string `json:"mountPath"`
					} `json:"volumeMounts"`
				} `json:"containers"`
				Volumes []struct {
					Name      string `json:"name"`
					ConfigMap *struct {
						Name string `json:"name"`
					} `json:"configMap"`
				} `json:"volumes"`
			} `json:"spec"`
		} `json:"template"`
	}
	var svc struct {
		Selector map[string]string `json:"selector"`
		Ports    []struct {
			Port       int    `json:"port"`
			TargetPort string `json:"targetPort"`
		} `json:"ports"`
	}
	var pdb struct {
		Selector struct {
			MatchLabels map[string]string `json:"matchLabels"`
		} `json:"selector"`
	}
	for _, u := range []struct {
		kind string
		into any
	}{{"Deployment", &dep}, {"Service", &svc}, {"PodDisruptionBudget", &pdb}} {
		if err := json.Unmarshal(byKind[u.kind].Spec, u.into); err != nil {
			t.Fatalf("%s: %v", u.kind, err)
		}
	}
	labels := dep.Template.Metadata.Labels
	for name, sel := range map[string]map[string]string{"Deployment": dep.Selector.MatchLabels, "Service": svc.Selector, "PodDisruptionBudget": pdb.Selector.MatchLabels} {
		if len(sel) == 0 || !subset(sel, labels) {
			t.Errorf("%s selector %v does not select the pod labels %v", name, sel, labels)
		}
	}
	if !dep.Template.Spec.SecurityContext.RunAsNonRoot {
		t.Error("Deployment: runAsNonRoot is not set")
	}
	if len(dep.Template.Spec.Containers) != 1 || len(svc.Ports) != 1 {
		t.Fatalf("want one container and one Service port")
	}
	c := dep.Template.Spec.Containers[0]
	var port int
	for _, p := range c.Ports {
		if p.Name == svc.Ports[0].TargetPort {
			port = p.ContainerPort
		}
	}
	if port == 0 {
		t.Fatalf("Service targetPort %q is not a container port", svc.Ports[0].TargetPort)
	}
	if !slices.Contains(c.Args, fmt.Sprintf("--listen=:%d", port)) {
		t.Errorf("container args %v do not listen on port %d", c.Args, port)
	}
	if c.ReadinessProbe.GRPC == nil || c.LivenessProbe.GRPC == nil || c.ReadinessProbe.GRPC.Port != port || c.LivenessProbe.GRPC.Port != port {
		t.Fatalf("readiness and liveness must be gRPC health probes on port %d", port)
	}
	// mcpgate serve reports health for "" and for the ext_proc service.
	if svc := c.ReadinessProbe.GRPC.Service; svc != "" && svc != extprocv3.ExternalProcessor_ServiceDesc.ServiceName {
		t.Errorf("readiness probe asks for service %q, which mcpgate does not report", svc)
	}
	// --config names a file of the mounted ConfigMap.
	var configPath string
	for _, a := range c.Args {
		if v, ok := strings.CutPrefix(a, "--config="); ok {
			configPath = v
		}
	}
	cm := byKind["ConfigMap"]
	mounted := false
	for _, vm := range c.VolumeMounts {
		for _, v := range dep.Template.Spec.Volumes {
			if v.Name == vm.Name && v.ConfigMap != nil && v.ConfigMap.Name == cm.Metadata.Name {
				_, ok := cm.Data[strings.TrimPrefix(configPath, strings.TrimSuffix(vm.MountPath, "/")+"/")]
				mounted = mounted || ok
			}
		}
	}
	if !mounted {
		t.Errorf("--config=%s is not a key of the mounted ConfigMap %s", configPath, cm.Metadata.Name)
	}
	s := byKind["Service"].Metadata
	cluster := fmt.Sprintf("outbound|%d||%s.%s.svc.cluster.local", svc.Ports[0].Port, s.Name, s.Namespace)
	if !strings.Contains(envoyFilter, `"cluster_name":"`+cluster+`"`) {
		t.Errorf("EnvoyFilter does not call the Service's cluster %s", cluster)
	}
	// Every route the EnvoyFilter enables exists in the VirtualService, and
	// names a backend the ConfigMap's policy defines.
	p, err := extproc.ParsePolicy([]byte(cm.Data["policy.yaml"]))
	if err != nil {
		t.Fatal(err)
	}
	var spec envoyFilterSpec
	_ = json.Unmarshal(byKind["EnvoyFilter"].Spec, &spec)
	routes := 0
	for _, cp := range spec.ConfigPatches {
		if cp.ApplyTo != "HTTP_ROUTE" {
			continue
		}
		routes++
		raw, _ := json.Marshal(cp)
		var r struct {
			Match struct {
				RouteConfiguration struct {
					Vhost struct {
						Route struct {
							Name string `json:"name"`
						} `json:"route"`
					} `json:"vhost"`
				} `json:"routeConfiguration"`
			} `json:"match"`
		}
		_ = json.Unmarshal(raw, &r)
		name := r.Match.RouteConfiguration.Vhost.Route.Name
		if !strings.Contains(virtualService, `"name":"`+name+`"`) {
			t.Errorf("EnvoyFilter enables route %q, which the VirtualService lacks", name)
		}
		backend := strings.TrimPrefix(name, "mcp-")
		if _, ok := p.Backends[backend]; !ok || !strings.Contains(string(raw), `"value":"`+backend+`"`) {
			t.Errorf("route %q: want x-mcpgate-backend %q, defined in the ConfigMap policy", name, backend)
		}
	}
	if routes == 0 {
		t.Error("the EnvoyFilter enables mcpgate on no route")
	}
}

func subset(sub, of map[string]string) bool {
	for k, v := range sub {
		if of[k] != v {
			return false
		}
	}
	return true
}

// TestEnvoyFilterValidationFails proves the EnvoyFilter checks can fail:
// each mutated copy of istio/envoyfilter.yaml must be rejected.
func TestEnvoyFilterValidationFails(t *testing.T) {
	const extProc = "spec.configPatches.1.patch.value.typed_config"
	tests := []struct {
		name    string
		mutate  func(t *testing.T, doc any)
		wantErr string // empty: still valid
	}{
		{name: "unchanged", mutate: func(*testing.T, any) {}},
		{name: "unknown field in typed_config", wantErr: "unknown field",
			mutate: func(t *testing.T, doc any) { set(t, doc, extProc+".fail_open", true) }},
		{name: "message_timeout over limit", wantErr: "MessageTimeout",
			mutate: func(t *testing.T, doc any) { set(t, doc, extProc+".message_timeout", "7200s") }},
		{name: "misspelled enum", wantErr: "invalid value",
			mutate: func(t *testing.T, doc any) { set(t, doc, extProc+".processing_mode.request_body_mode", "BUFFERD") }},
		{name: "per-route override of the wrong type", wantErr: "unable to resolve",
			mutate: func(t *testing.T, doc any) {
				// set cannot name a key with dots in it.
				route := doc.(map[string]any)["spec"].(map[string]any)["configPatches"].([]any)[2]
				perFilter := route.(map[string]any)["patch"].(map[string]any)["value"].(map[string]any)["typed_per_filter_config"]
				perFilter.(map[string]any)["envoy.filters.http.ext_proc"].(map[string]any)["@type"] = "type.googleapis.com/nope.v3.Nope"
			}},
		{name: "unknown applyTo", wantErr: "not one this test knows",
			mutate: func(t *testing.T, doc any) { set(t, doc, "spec.configPatches.0.applyTo", "LISTENR") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			docs, err := decodeYAML("istio/envoyfilter.yaml")
			if err != nil {
				t.Fatal(err)
			}
			tt.mutate(t, docs[0])
			data, _ := json.Marshal(docs[0])
			var m manifest
			if err := json.Unmarshal(data, &m); err != nil {
				t.Fatal(err)
			}
			err = validateEnvoyFilter(m.Spec)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}
