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

// instructionsDrift withholds initialize instructions that changed since
// they were pinned, reusing the detectors' notice shape. It reports false
// when the instructions pass (to the detectors, next).
func (s *stream) instructionsDrift(ctx context.Context, raw []byte, id string, result gjson.Result) ([]byte, bool, bool) {
	instr := result.Get("instructions")
	if s.pins == nil || instr.Type != gjson.String {
		return raw, false, false
	}
	changes, err := s.pins.checkInstructions(ctx, s.backend, instr.String())
	eventID := s.nextEventID()
	if err != nil {
		s.logEvent(ctx, "pass", eventID, "pin_error", slog.String("error", err.Error()))
		return raw, false, false
	}
	if len(changes) == 0 || pinning.MaxSeverity(changes) < s.pins.threshold {
		return raw, false, false
	}
	notice := fmt.Sprintf("mcpgate withheld this server's instructions: they changed since they were pinned "+
		"(policy tool_pinning). Event %s in the mcpgate log has the details.", eventID)
	replaced, err := noticeResult("initialize", result, notice)
	if err != nil {
		out, ok := s.withholdMessage(ctx, id, "uninspectable_response", "mcpgate: result could not be replaced: "+err.Error())
		return out, ok, true
	}
	out := resultResponse(id, replaced)
	d := s.enforceEvent(ctx, Decision{Replace: true, Body: out}, eventID, "instructions_drifted",
		slog.String("policy", "tool_pinning"), slog.Any("changes", changes))
	if !d.Replace {
		return raw, false, false // passive: logged; the detectors still look
	}
	return d.Body, true, true
}
