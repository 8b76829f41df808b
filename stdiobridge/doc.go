// Package stdiobridge serves an MCP server that speaks only stdio as a
// Streamable HTTP endpoint, so that Envoy and mcpgate can sit in front of
// it (`mcpgate run -- CMD ARGS…`).
//
// It owns the child processes and the translation between the two
// transports, nothing else: no policy, no inspection.
//
//   - One child per MCP session. An initialize POST without an
//     Mcp-Session-Id starts a child (the first one is started ahead, so a
//     command that fails at once ends the bridge before any client comes)
//     and the response carries a new session id; DELETE ends the session and
//     its child (stdin closed, then SIGTERM, then SIGKILL). Sessions are
//     independent processes, as they would be if the client had spawned the
//     server itself. At Config.MaxSessions a new session replaces the
//     longest idle one (no GET stream, nothing in flight).
//   - A child that exits on its own, in any session, ends the bridge:
//     [Bridge.Serve] returns an [*ExitError] with its status, which
//     `mcpgate run` exits with. Exits the bridge caused (DELETE, shutdown)
//     do not count.
//   - Bytes are unchanged both ways. A POSTed message is written as one
//     line; only a body that spans lines (pretty-printed JSON) is compacted
//     first, since the stdio transport forbids embedded newlines and
//     compaction removes only insignificant whitespace. A batch is written
//     as one line per element, each element's bytes as sent. Every line the
//     child prints is passed to the client byte for byte (pins hash the raw
//     bytes of responses), as the application/json body or as one SSE
//     event's data; the only exception is a line holding a carriage return
//     between JSON tokens, which SSE would split, and which is compacted.
//   - Responses are matched to requests by JSON-RPC id within the session,
//     a number and a string with the same digits being different ids. A
//     response goes to the POST that carried its request: as application/json
//     when it is the only message for that POST, else on an SSE stream that
//     first carries what the child sent meanwhile. A server request or
//     notification goes to the POST whose progress token it names, else to
//     the only POST in flight, else to the session's GET stream, held in a
//     bounded backlog until a GET stream is open.
//   - Not supported: resumability (SSE event ids, Last-Event-ID) and the
//     stateless 2026-07-28 revision's session-less requests, which get 400
//     so that clients fall back to initialize.
package stdiobridge
