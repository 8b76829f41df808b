// Package envoy holds the Envoy configurations mcpgate ships (envoy.yaml and
// any others under this folder). It contains no Go code beyond this comment;
// config_test.go validates every bootstrap file here against Envoy's own
// protobuf schema and, when an envoy binary is available, with
// `envoy --mode validate`.
package envoy
