package envoy_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/anypb"
	"gopkg.in/yaml.v3"

	// Every typed_config "@type" in the configs must be registered here, or
	// protojson fails with "unable to resolve".
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/access_loggers/stream/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/jwt_authn/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
)

// localEnvoy is where `make envoy` installs the binary, relative to this
// package's directory (the working directory of `go test`).
const localEnvoy = "../.venv/bin/envoy"

func TestConfigs(t *testing.T) {
	files := yamlFiles(t, ".")
	bootstraps := 0
	for _, file := range files {
		t.Run(file, func(t *testing.T) {
			docs, err := decodeYAML(file)
			if err != nil {
				t.Fatal(err)
			}
			// Kubernetes and Istio manifests live here too (k8s/, istio/).
			if isManifest(docs[0]) {
				validateManifests(t, file, docs)
				return
			}
			bootstraps++
			if len(docs) != 1 {
				t.Fatalf("%s: an Envoy bootstrap must be one YAML document, found %d", file, len(docs))
			}
			t.Run("proto", func(t *testing.T) {
				if err := validateBootstrap(docs[0]); err != nil {
					t.Errorf("%s: %v", file, err)
				}
			})
			t.Run("envoy", func(t *testing.T) {
				envoyValidate(t, file)
			})
		})
	}
	// A wrong directory or glob would otherwise pass vacuously.
	if bootstraps == 0 {
		t.Fatalf("no Envoy bootstrap files found among %v", files)
	}
}

// TestValidationFails proves the checks above can fail: each mutated copy of
// envoy.yaml must be rejected.
func TestValidationFails(t *testing.T) {
	const (
		listener = "static_resources.listeners.0"
		hcm      = listener + ".filter_chains.0.filters.0.typed_config"
		extProc  = hcm + ".http_filters.0.typed_config"
	)
	tests := []struct {
		name    string
		mutate  func(t *testing.T, doc any)
		wantErr string // empty: the copy must still be valid
	}{
		{name: "unchanged", mutate: func(*testing.T, any) {}},
		{name: "unknown top-level field", wantErr: "unknown field",
			mutate: func(t *testing.T, doc any) { set(t, doc, "not_a_field", true) }},
		{name: "unknown field inside typed_config", wantErr: "unknown field",
			mutate: func(t *testing.T, doc any) { set(t, doc, extProc+".fail_open", true) }},
		{name: "negative port", wantErr: "uint32",
			mutate: func(t *testing.T, doc any) { set(t, doc, listener+".address.socket_address.port_value", -1) }},
		{name: "port out of range", wantErr: "PortValue",
			mutate: func(t *testing.T, doc any) { set(t, doc, listener+".address.socket_address.port_value", 70000) }},
		{name: "unregistered extension", wantErr: "unable to resolve",
			mutate: func(t *testing.T, doc any) {
				set(t, doc, extProc+".@type", "type.googleapis.com/envoy.extensions.filters.http.nope.v3.Nope")
			}},
		{name: "misspelled enum", wantErr: "invalid value",
			mutate: func(t *testing.T, doc any) { set(t, doc, extProc+".processing_mode.request_body_mode", "BUFFERD") }},
		{name: "zero cluster connect_timeout", wantErr: "ConnectTimeout",
			mutate: func(t *testing.T, doc any) { set(t, doc, "static_resources.clusters.0.connect_timeout", "0s") }},
		// Bootstrap.ValidateAll stops at google.protobuf.Any, so this one is
		// caught only by validateEmbedded.
		{name: "ext_proc message_timeout over limit", wantErr: "MessageTimeout",
			mutate: func(t *testing.T, doc any) { set(t, doc, extProc+".message_timeout", "7200s") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			docs, err := decodeYAML("envoy.yaml")
			if err != nil {
				t.Fatal(err)
			}
			tt.mutate(t, docs[0])
			err = validateBootstrap(docs[0])
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tt.wantErr != "" && err == nil:
				t.Fatalf("mutated config passed validation, want error containing %q", tt.wantErr)
			case tt.wantErr != "" && !strings.Contains(err.Error(), tt.wantErr):
				t.Fatalf("error %q does not contain %q", err, tt.wantErr)
			}
		})
	}
}

func yamlFiles(t *testing.T, root string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if ext := filepath.Ext(path); !d.IsDir() && (ext == ".yaml" || ext == ".yml") {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walking %s: %v", root, err)
	}
	return files
}

// decodeYAML returns every document in file, each converted to the
// JSON-compatible shape (string map keys) that encoding/json accepts.
func decodeYAML(file string) ([]any, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var docs []any
	for {
		var doc any
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: document %d: %w", file, len(docs)+1, err)
		}
		if doc, err = jsonShape(doc); err != nil {
			return nil, fmt.Errorf("%s: document %d: %w", file, len(docs)+1, err)
		}
		docs = append(docs, doc)
	}
	if len(docs) == 0 {
		return nil, fmt.Errorf("%s: no YAML documents", file)
	}
	return docs, nil
}

// jsonShape converts the map[any]any that yaml.v3 produces for non-string
// keys into map[string]any, recursively.
func jsonShape(v any) (any, error) {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			c, err := jsonShape(e)
			if err != nil {
				return nil, err
			}
			v[k] = c
		}
		return v, nil
	case map[any]any:
		m := make(map[string]any, len(v))
		for k, e := range v {
			c, err := jsonShape(e)
			if err != nil {
				return nil, err
			}
			m[fmt.Sprint(k)] = c
		}
		return m, nil
	case []any:
		for i, e := range v {
			c, err := jsonShape(e)
			if err != nil {
				return nil, err
			}
			v[i] = c
		}
		return v, nil
	default:
		return v, nil
	}
}

func isManifest(doc any) bool {
	m, ok := doc.(map[string]any)
	_, hasAPIVersion := m["apiVersion"]
	return ok && hasAPIVersion
}

// validateBootstrap parses doc strictly as an Envoy Bootstrap and runs the
// protoc-gen-validate rules, including those of every embedded Any.
func validateBootstrap(doc any) error {
	data, err := json.Marshal(doc)
	if err != nil {
		return fmt.Errorf("converting to JSON: %w", err)
	}
	var b bootstrapv3.Bootstrap
	if err := protojson.Unmarshal(data, &b); err != nil {
		return fmt.Errorf("parsing as Bootstrap: %w", err)
	}
	if err := b.ValidateAll(); err != nil {
		return fmt.Errorf("validating Bootstrap: %w", err)
	}
	return validateEmbedded(b.ProtoReflect(), "")
}

// validateEmbedded validates the payload of every google.protobuf.Any in m
// (typed_config and friends). Generated ValidateAll methods do not look
// inside Any, so without this an invalid ext_proc or HCM config would pass.
func validateEmbedded(m protoreflect.Message, path string) error {
	var errs []error
	visit := func(msg protoreflect.Message, at string) {
		if a, ok := msg.Interface().(*anypb.Any); ok {
			errs = append(errs, validateAny(a, at))
			return
		}
		errs = append(errs, validateEmbedded(msg, at))
	}
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		at := path + "." + string(fd.Name())
		switch {
		case fd.IsList() && fd.Message() != nil:
			for i := range v.List().Len() {
				visit(v.List().Get(i).Message(), at+"["+strconv.Itoa(i)+"]")
			}
		case fd.IsMap() && fd.MapValue().Message() != nil:
			v.Map().Range(func(k protoreflect.MapKey, mv protoreflect.Value) bool {
				visit(mv.Message(), at+"["+k.String()+"]")
				return true
			})
		case !fd.IsList() && !fd.IsMap() && fd.Message() != nil:
			visit(v.Message(), at)
		}
		return true
	})
	return errors.Join(errs...)
}

func validateAny(a *anypb.Any, path string) error {
	inner, err := a.UnmarshalNew()
	if err != nil {
		return fmt.Errorf("embedded config at %s: %s: %w", path, a.GetTypeUrl(), err)
	}
	if v, ok := inner.(interface{ ValidateAll() error }); ok {
		if err := v.ValidateAll(); err != nil {
			return fmt.Errorf("embedded config at %s: %s: %w", path, a.GetTypeUrl(), err)
		}
	}
	return validateEmbedded(proto.Message(inner).ProtoReflect(), path)
}

// envoyValidate runs `envoy --mode validate`, which also catches what the
// schema cannot: unknown cluster references, extension-specific checks.
func envoyValidate(t *testing.T, file string) {
	bin := findEnvoy()
	if bin == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("no envoy binary on PATH or at " + localEnvoy + "; run `make envoy`")
		}
		t.Skip("no envoy binary on PATH or at " + localEnvoy + "; run `make envoy` to enable this check")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	// --disable-hot-restart keeps this from touching the shared memory of
	// an Envoy already running on the machine.
	cmd := exec.CommandContext(ctx, bin, "--mode", "validate", "--disable-hot-restart", "--log-level", "warn", "-c", file)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Errorf("%s --mode validate -c %s: %v\n%s", bin, file, err, out)
	}
}

func findEnvoy() string {
	if p, err := exec.LookPath("envoy"); err == nil {
		return p
	}
	if _, err := os.Stat(localEnvoy); err == nil {
		abs, err := filepath.Abs(localEnvoy)
		if err == nil {
			return abs
		}
	}
	return ""
}

// set replaces the value at a dotted path such as "a.b.0.c" (numbers index
// lists). Keys may contain "@" but not dots.
func set(t *testing.T, doc any, path string, value any) {
	t.Helper()
	keys := strings.Split(path, ".")
	cur := doc
	for i, k := range keys {
		last := i == len(keys)-1
		switch c := cur.(type) {
		case map[string]any:
			if last {
				c[k] = value
				return
			}
			next, ok := c[k]
			if !ok {
				t.Fatalf("set %s: no key %q", path, k)
			}
			cur = next
		case []any:
			n, err := strconv.Atoi(k)
			if err != nil || n < 0 || n >= len(c) {
				t.Fatalf("set %s: bad index %q for list of %d", path, k, len(c))
			}
			if last {
				c[n] = value
				return
			}
			cur = c[n]
		default:
			t.Fatalf("set %s: %q is inside a %T, not a map or list", path, k, cur)
		}
	}
}

func TestDecodeYAML(t *testing.T) {
	tests := []struct {
		name         string
		text         string
		wantDocs     int
		wantManifest bool
		wantErr      bool
	}{
		{name: "bootstrap", text: "admin: {}\nstatic_resources: {}\n", wantDocs: 1},
		{name: "istio manifest", text: "apiVersion: networking.istio.io/v1alpha3\nkind: EnvoyFilter\n---\napiVersion: v1\nkind: Service\n",
			wantDocs: 2, wantManifest: true},
		{name: "non-string keys", text: "1: one\ntrue: yes\n", wantDocs: 1},
		{name: "bad indentation", text: "a:\n  b: 1\n c: 2\n", wantErr: true},
		{name: "empty", text: "", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "c.yaml")
			if err := os.WriteFile(file, []byte(tt.text), 0o600); err != nil {
				t.Fatal(err)
			}
			docs, err := decodeYAML(file)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if len(docs) != tt.wantDocs {
				t.Fatalf("got %d documents, want %d", len(docs), tt.wantDocs)
			}
			if got := isManifest(docs[0]); got != tt.wantManifest {
				t.Errorf("isManifest = %v, want %v", got, tt.wantManifest)
			}
			if _, err := json.Marshal(docs); err != nil {
				t.Errorf("documents do not convert to JSON: %v", err)
			}
		})
	}
}
