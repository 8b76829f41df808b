package extproc

// JSON-RPC error codes of the gateway's own answers, besides the framing
// ones beside the parser (codeParseError, codeInvalidRequest,
// codePolicyDenied, codeUninspectable in jsonrpc.go). Clients and log
// searches depend on them, so a code never changes meaning;
// docs/operations.md lists what answers with each.
const (
	codeToolDrifted = -32004 // a call to a tool whose definition changed since it was pinned
	codeLowScore    = -32005 // a request to a backend whose MCP Score is below its min_score
	// A result withheld by the detectors whose method has no notice shape
	// of its own (methods.go), and a JSON-RPC error whose text was withheld.
	codeContentWithheld = -32006
	codeUnauthorized    = -32010 // a 401 from the gateway: no, unknown or wrong-audience token
	// The 2026-07-28 streamable HTTP error for a request whose Mcp-Method
	// or Mcp-Name header disagrees with its body (go-sdk CodeHeaderMismatch).
	codeHeaderMismatch = -32020
	codeInternalError  = -32603 // JSON-RPC's own code for a server-side failure (unknown backend)
)
