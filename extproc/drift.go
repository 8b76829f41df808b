package extproc

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/mcpgate/mcpgate/pinning"
)

// codeToolDrifted: a tools/call to a tool whose definition changed since it
// was pinned.
const codeToolDrifted = -32004

// refuseDrifted rejects calls to tools that drifted from their pin.
func (s *stream) refuseDrifted(ctx context.Context, msgs []message, batch bool) Decision {
	if s.pins == nil {
		return Decision{}
	}
	var tool string
	var changes []pinning.Change
	for _, m := range msgs {
		if m.method == "tools/call" && !m.isResp {
			if cs := s.pins.driftedTool(s.backend, m.tool); len(cs) > 0 {
				tool = m.tool
				changes = append(changes, cs...)
			}
		}
	}
	if len(changes) == 0 {
		return Decision{}
	}
	eventID := s.nextEventID()
	msg := fmt.Sprintf("mcpgate: tool %q changed since it was pinned (%s); policy tool_pinning refuses it until the change is approved",
		tool, describeChanges(changes))
	status, body := rejectAll(msgs, batch, codeToolDrifted, msg, map[string]string{"policy": "tool_pinning", "event_id": eventID})
	return s.enforceEvent(ctx, Decision{Reject: &Reject{Status: status, Body: body, Details: "mcpgate_tool_drifted"}},
		eventID, "tool_drifted", slog.String("policy", "tool_pinning"), slog.Any("changes", changes))
}

// pinCheck compares a tools/list result with the pins and returns the
// tools that drifted. Store errors are logged and judged as no drift:
// pinning fails open, the allowlist and detectors still apply.
func (s *stream) pinCheck(ctx context.Context, eventID, id string, result gjson.Result, tools []gjson.Result) map[string]bool {
	if s.pins == nil {
		return nil
	}
	defs := make([][]byte, len(tools))
	for i, t := range tools {
		defs[i] = []byte(t.Raw)
	}
	complete := !s.calls[id].paged && !result.Get("nextCursor").Exists()
	changes, drifted, err := s.pins.check(ctx, s.backend, s.session, defs, complete)
	if err != nil {
		s.logEvent(ctx, "pass", eventID, "pin_error", slog.String("error", err.Error()))
		return nil
	}
	if len(changes) > 0 {
		s.logEvent(ctx, "observe", eventID, "pin_changes", slog.String("policy", "tool_pinning"),
			slog.Bool("complete_list", complete), slog.Any("changes", changes))
	}
	return drifted
}

// describeChanges is a one-line summary for a client-facing error.
func describeChanges(cs []pinning.Change) string {
	parts := make([]string, 0, len(cs))
	for _, c := range cs {
		parts = append(parts, fmt.Sprintf("%s: %s", c.Kind, c.Detail))
	}
	return truncate(strings.Join(parts, "; "), 200)
}
