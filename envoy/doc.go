// Package envoy holds the Envoy configurations mcpgate ships (envoy.yaml and
// any others under this folder) and derives runnable variants of the bundled
// one: the same listener, routes and filters with other addresses, another
// upstream, or without the ext_proc filter (a plain Envoy baseline).
// config_test.go validates every bootstrap file here against Envoy's own
// protobuf schema and, when an envoy binary is available, with
// `envoy --mode validate`.
package envoy
