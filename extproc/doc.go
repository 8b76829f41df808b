// Package extproc is mcpgate's Envoy-facing side: the gRPC
// envoy.service.ext_proc.v3.ExternalProcessor service, one state machine per
// ext_proc stream (one HTTP exchange), the MCP framing it understands
// (JSON-RPC over Streamable HTTP, JSON and SSE bodies) and the policy
// decisions it turns into Envoy replies: pass, mutate or reject.
//
// The ext_proc message sequence for an exchange, with the bundled Envoy
// config, is: request headers, request body (buffered), response headers,
// then response body chunks in the mode chosen per response from its
// content type. Everything the exchange means in MCP terms (method, ids, tool
// names) lives in one per-stream struct; see stream.go.
package extproc
