package score

import (
	"slices"

	"github.com/mcpgate/mcpgate/detectors"
)

// Check ids, as reported in Finding.Check.
const (
	CheckHandshake          = "handshake"
	CheckPoisoning          = "tool-poisoning"
	CheckSuspiciousText     = "suspicious-text"
	CheckSchemaSecret       = "schema-secret"
	CheckCommandInjection   = "command-injection"
	CheckDestructive        = "destructive-unannotated"
	CheckAnnotationMismatch = "annotation-mismatch"
	CheckTrifecta           = "lethal-trifecta"
	CheckSurfaceSize        = "surface-size"
	CheckTokenCost          = "token-cost"
	CheckProtocolVersion    = "protocol-version"
	CheckErrorConformance   = "error-conformance"
	CheckMissingAnnotations = "missing-annotations"
	CheckExfiltration       = "exfiltration-confirmed"
	CheckOutputInjection    = "output-injection"
)

// Check is one scoring rule's weight: what each finding deducts, the most
// the check can deduct in total, and the highest score a server with such
// a finding can have (100: no cap).
type Check struct {
	ID       string
	OWASP    string // OWASP MCP Top 10 (2025) category
	Severity detectors.Severity
	Points   int
	Max      int
	MaxScore int
	Title    string
	Fix      string
}

// maxDScore is the top of grade D: the cap for a secret in a schema, a
// poisoned tool or the lethal trifecta.
const maxDScore = 69

// checkTable is the scoring table, in report order. It is the only place
// weights live; README.md documents it and a test keeps the two in step.
var checkTable = []Check{
	{CheckHandshake, "MCP07:2025", detectors.High, 0, 0, 0,
		"the server could not be connected to and initialized",
		"check the URL, the transport (--transport sse for legacy servers) and that the server answers initialize"},
	{CheckExfiltration, "MCP06:2025", detectors.High, 30, 60, 0,
		"a read-only tool sent a canary URL it was given out to the network",
		"do not fetch or forward URLs found in arguments from a tool marked read-only; remove the outbound call"},
	{CheckPoisoning, "MCP03:2025", detectors.High, 20, 40, maxDScore,
		"model-visible text carries instructions to the model (tool poisoning)",
		"remove the directive from the description, schema or instructions; describe what the tool does, nothing else"},
	{CheckSchemaSecret, "MCP01:2025", detectors.High, 20, 40, maxDScore,
		"a credential is written into a tool definition (default, example or description)",
		"remove the secret and rotate it; take credentials from the server's environment, never from the schema"},
	{CheckTrifecta, "MCP06:2025", detectors.High, 25, 25, maxDScore,
		"one server combines untrusted-content ingestion, sensitive-data access and an outbound or destructive path",
		"split the capabilities across servers, or drop one leg; an injected page can otherwise make the model read secrets and send them out"},
	{CheckAnnotationMismatch, "MCP02:2025", detectors.High, 20, 40, 100,
		"a tool claims readOnlyHint but its name or description says it changes or deletes things",
		"set readOnlyHint false and destructiveHint true, or make the tool really read-only"},
	{CheckCommandInjection, "MCP05:2025", detectors.High, 15, 30, 100,
		"an exec-like tool takes a free-form string that can become a command",
		"take a fixed set of operations (enum) and separate arguments, never a command line; validate with a pattern"},
	{CheckOutputInjection, "MCP06:2025", detectors.Medium, 15, 30, 100,
		"a tool's output carries an injection the detectors flag",
		"sanitize third-party content before returning it, or mark it clearly as untrusted data"},
	{CheckDestructive, "MCP02:2025", detectors.Medium, 10, 25, 100,
		"a destructive tool has neither destructiveHint true nor a confirmation parameter",
		"annotate it with destructiveHint: true (and readOnlyHint: false), or require a confirm/dry_run parameter"},
	{CheckSuspiciousText, "MCP03:2025", detectors.Low, 3, 9, 100,
		"model-visible text has personal data or a low-severity detector finding",
		"review the text; remove hidden characters, personal data and phrasing aimed at the model"},
	{CheckSurfaceSize, "MCP10:2025", detectors.Low, 5, 10, 100,
		"the server exposes many tools (over 40: -5, over 80: -10), crowding the model's context and choices",
		"split the server by task, or let clients enable tool groups"},
	{CheckTokenCost, "MCP10:2025", detectors.Low, 5, 10, 100,
		"the tool definitions cost many tokens on every request (over 10k: -5, over 25k: -10; 4 bytes a token)",
		"shorten descriptions and schemas; move long documentation into a resource"},
	{CheckProtocolVersion, "MCP04:2025", detectors.Low, 5, 5, 100,
		"the negotiated protocol version is older than 2025-06-18 or unknown",
		"update the MCP SDK; older revisions lack structured output, elicitation and the security best practices"},
	{CheckErrorConformance, "MCP04:2025", detectors.Low, 5, 10, 100,
		"a request for an unknown method did not get JSON-RPC error -32601 (-5; a result: -10)",
		"answer unknown methods with -32601 Method not found; a server that accepts anything hides client mistakes"},
	{CheckMissingAnnotations, "MCP02:2025", detectors.Low, 2, 10, 100,
		"a tool has no annotations, so clients cannot tell read-only tools from writes",
		"add annotations: readOnlyHint, destructiveHint, idempotentHint, openWorldHint"},
}

// Checks returns the scoring table, in report order.
func Checks() []Check { return slices.Clone(checkTable) }

// checkByID returns the table entry for id; ids are constants, so a miss
// is a programming error.
func checkByID(id string) Check {
	for _, c := range checkTable {
		if c.ID == id {
			return c
		}
	}
	panic("score: unknown check " + id)
}
