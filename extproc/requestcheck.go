package extproc

import (
	"context"
	"encoding/base64"
	"fmt"
	"log/slog"
	"strings"

	"github.com/mcpgate/mcpgate/detectors"
)

// checkMcpHeaders refuses a request whose Mcp-Method or Mcp-Name
// header disagrees with the body (HTTP 400, -32020). The spec lets
// intermediaries route and authorise on these headers, so a disagreement
// means two readers see two different calls. An absent header is not
// checked: clients before 2026-07-28 send none, and the server decides
// whether it requires them. A batch carries no per-message headers.
func (s *stream) checkMcpHeaders(ctx context.Context, m message) (Decision, bool) {
	if m.method == "" {
		return Decision{}, false
	}
	var reason string
	info, _ := lookupMethod(m.method)
	switch {
	case s.mcpMethod != nil && *s.mcpMethod != m.method:
		reason = fmt.Sprintf("Mcp-Method header %q does not match the body's method %q", truncate(*s.mcpMethod, 64), truncate(m.method, 64))
	case info.nameParam != "" && s.mcpName != nil && !sameName(*s.mcpName, m.name):
		// Neither value is quoted: a resource URI may carry a secret.
		reason = fmt.Sprintf("Mcp-Name header does not match the body's %s", info.nameParam)
	default:
		return Decision{}, false
	}
	id := m.id
	if id == "" {
		id = "null"
	}
	d := s.enforce(ctx, Decision{Reject: &Reject{Status: 400, Body: errorResponse(id, codeHeaderMismatch, "mcpgate: "+reason, nil),
		Details: "mcpgate_header_mismatch"}}, "header_mismatch", slog.String("reason", reason))
	return d, d.Reject != nil
}

// sameName reports whether an Mcp-Name header names name: as it stands,
// or in the =?base64?…?= form SEP-2243 gives header values that are not
// plain ASCII (go-sdk sends names raw, others may encode them).
func sameName(header, name string) bool {
	if header == name {
		return true
	}
	if !strings.HasPrefix(header, "=?base64?") || !strings.HasSuffix(header, "?=") || len(header) < len("=?base64??=") {
		return false
	}
	enc := header[len("=?base64?") : len(header)-len("?=")]
	dec, err := base64.StdEncoding.DecodeString(enc)
	return err == nil && string(dec) == name
}

// refuseInputResponses scans the MRTR inputResponses of a retried request
// (the client's answers to the server's inputRequests: sampled model
// output, elicited user input), which the server acts on. requestState is
// opaque and echoed untouched: never scanned, never changed.
func (s *stream) refuseInputResponses(ctx context.Context, msgs []message, batch bool) (Decision, bool) {
	if s.scanner == nil {
		return Decision{}, false
	}
	var findings []detectors.Finding
	var tool, method string
	for _, m := range msgs {
		if ir := m.params.Get("inputResponses"); m.params.IsObject() && ir.Exists() {
			before := len(findings)
			s.scanWhole(ir, "params.inputResponses", "", &findings)
			if len(findings) > before && method == "" {
				method, tool = m.method, m.tool
			}
		}
	}
	if len(findings) == 0 {
		return Decision{}, false
	}
	eventID := s.nextEventID()
	if findings = s.logFindings(ctx, eventID, method, tool, findings); !s.withholds(findings) {
		return Decision{}, false
	}
	msg := fmt.Sprintf("mcpgate: inputResponses withheld: they matched %v (event %s)", ruleIDs(findings), eventID)
	status, body := rejectAll(msgs, batch, codePolicyDenied, msg, map[string]string{"policy": "detectors", "event_id": eventID})
	d := s.enforceEvent(ctx, Decision{Reject: &Reject{Status: status, Body: body, Details: "mcpgate_content_withheld"}},
		eventID, "input_responses_withheld", slog.String("policy", "detectors"), slog.Any("rules", ruleIDs(findings)))
	return d, d.Reject != nil
}
