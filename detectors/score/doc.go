// Package score grades what an MCP server shows a model — its tools,
// prompts, resources and instructions — as the MCP Score: 0 to 100 and a
// grade (A ≥ 90, B ≥ 80, C ≥ 70, D ≥ 55, else F), with one finding per
// problem saying which check, which tool, why and how to fix it.
//
// It is pure content analysis like its parent package detectors, whose
// scanner it runs on every model-visible string: no network, no Envoy or
// SDK types. The same Surface is built by `mcpgate audit` from a live
// server and by the gateway from the tools/list and initialize responses
// it sees, so both grade a server the same way.
//
// Every check's weight lives in one table (checks.go) so a user can
// predict a score: each finding deducts its check's points, a check never
// deducts more than its maximum, and some findings cap the score (a secret
// in a schema, a poisoned tool or the lethal trifecta cap it at the top of
// D; a failed handshake or confirmed exfiltration make it F).
package score
