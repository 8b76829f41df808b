// Package pinning owns tool pinning: fingerprints of what an MCP server
// shows the model (its tools' model-visible fields, and its instructions),
// the classification of changes between two fingerprints (drift, e.g. a
// rug pull), reviewed lockfiles, and the stores that keep
// trust-on-first-use pins for every replica of the gateway.
package pinning
