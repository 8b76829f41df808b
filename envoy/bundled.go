package envoy

import _ "embed"

//go:embed envoy.yaml
var bundled string

// Bundled returns the bundled envoy.yaml (a copy: callers may change it).
func Bundled() []byte { return []byte(bundled) }
