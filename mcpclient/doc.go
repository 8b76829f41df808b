// Package mcpclient is the MCP client of the mcpgate commands that talk to
// a server themselves (pin, audit): it connects with the official SDK over
// Streamable HTTP or the legacy HTTP+SSE transport, lists what the server
// offers following pagination, and keeps each list result as the bytes on
// the wire, which is what the gateway pins and scores. It holds the one
// client-side SSE reader (sse.go); the gateway's own, which rewrites
// streams in flight, is extproc/sse.go.
package mcpclient
