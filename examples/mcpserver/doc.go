// Package mcpserver is a small MCP server used as the backend behind mcpgate
// in examples and end-to-end tests.
//
// Its tools cover the cases the gateway must handle: benign calls (echo,
// add), a tool whose result carries a prompt injection (fetch_page), a
// dangerous tool an allowlist should block (delete_files) and a tool whose
// SSE response is written in several flushes (stream_story). A [Backend]
// counts the tools/call requests that reach it, so a test can assert that a
// blocked call never arrived.
package mcpserver
