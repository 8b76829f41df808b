package extproc

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/mcpgate/mcpgate/audit"
	"github.com/mcpgate/mcpgate/pinning"
)

// refuseDrifted rejects calls to tools that drifted from their pin.
func (s *stream) refuseDrifted(ctx context.Context, msgs []message, batch bool) Decision {
	if s.pins == nil {
		return Decision{}
	}
	var what, name string
	var changes []pinning.Change
	for _, m := range msgs {
		info, _ := lookupMethod(m.method)
		if info.pinned == nil {
			continue
		}
		list, kind := *info.pinned, "tool"
		if list.key == promptList.key {
			kind = "prompt"
		}
		if cs := s.pins.driftedEntry(list, s.backend, m.tool); len(cs) > 0 {
			what, name = kind, m.tool
			changes = append(changes, cs...)
		}
	}
	if len(changes) == 0 {
		return Decision{}
	}
	eventID := s.nextEventID()
	msg := fmt.Sprintf("mcpgate: %s %q changed since it was pinned (%s); policy tool_pinning refuses it until the change is approved",
		what, name, describeChanges(changes))
	status, body := rejectAll(msgs, batch, codeToolDrifted, msg, map[string]string{"policy": "tool_pinning", "event_id": eventID})
	return s.enforceEvent(ctx, Decision{Reject: &Reject{Status: status, Body: body, Details: "mcpgate_tool_drifted"}},
		eventID, "tool_drifted", slog.String("policy", "tool_pinning"), slog.String("tool", name), slog.Any("changes", s.redactChanges(changes, nil)))
}

// pinCheck compares a tools/list result with the pins and returns the
// tools that drifted. Store errors are logged and judged as no drift:
// pinning fails open, the allowlist and detectors still apply.
func (s *stream) pinCheck(ctx context.Context, list pinnedList, eventID string, c call, result gjson.Result, tools []gjson.Result) map[string]bool {
	if s.pins == nil {
		return nil
	}
	defs := make([][]byte, len(tools))
	for i, t := range tools {
		defs[i] = []byte(t.Raw)
	}
	paged, more := c.paged, result.Get("nextCursor").Exists()
	complete := !paged && !more
	changes, drifted, err := s.pins.check(ctx, list, s.backend, s.session, defs, complete)
	if err == nil && (paged || more) {
		// Pages of one session are gathered until the last, which
		// completes the list: pinned and compared whole, so removed
		// entries show and a paginating server still gets a first pin.
		if all := s.pins.gatherPage(list, s.backend, s.session, defs, !paged, !more); all != nil {
			var whole []pinning.Change
			var wholeDrift map[string]bool
			whole, wholeDrift, err = s.pins.check(ctx, list, s.backend, s.session, all, true)
			changes = mergeChanges(changes, whole)
			for name := range wholeDrift {
				drifted[name] = true
			}
			complete = true
		}
	}
	if err != nil {
		s.audit.metrics.Error("pin_store")
		return s.pinFailure(ctx, eventID, err, tools)
	}
	if len(changes) > 0 {
		s.countDrift(changes)
		defs := map[string]string{}
		for _, t := range tools {
			defs[t.Get("name").String()] = t.Raw
		}
		s.decide(ctx, audit.Enforced(audit.Observe), eventID, audit.PinChanges, slog.String("policy", "tool_pinning"),
			slog.Bool("complete_list", complete), slog.Any("changes", s.redactChanges(changes, defs)))
	}
	return drifted
}

// pinFailure applies the failure mode when the pins cannot be checked:
// open passes the list (the allowlist and detectors still apply), closed
// treats every entry as drifted, so active mode hides them all.
func (s *stream) pinFailure(ctx context.Context, eventID string, err error, entries []gjson.Result) map[string]bool {
	if s.policy.FailureMode != FailClosed {
		s.decide(ctx, audit.Enforced(audit.Pass), eventID, audit.PinError, slog.String("error", err.Error()))
		return nil
	}
	s.decide(ctx, s.outcome(audit.Withhold), eventID, audit.PinError, slog.String("error", err.Error()), slog.String("failure_mode", string(FailClosed)))
	all := make(map[string]bool, len(entries))
	for _, e := range entries {
		all[e.Get("name").String()] = true
	}
	return all
}

func (s *stream) countDrift(changes []pinning.Change) {
	for _, c := range changes {
		s.audit.metrics.Drift(s.backend, string(c.Kind))
	}
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
		s.audit.metrics.Error("pin_store")
		s.decide(ctx, audit.Enforced(audit.Pass), eventID, audit.PinError, slog.String("error", err.Error()))
		return raw, false, false
	}
	s.countDrift(changes)
	if len(changes) == 0 || pinning.MaxSeverity(changes) < s.pins.cfg.threshold {
		return raw, false, false
	}
	notice := fmt.Sprintf("mcpgate withheld this server's instructions: they changed since they were pinned "+
		"(policy tool_pinning). Event %s in the mcpgate log has the details.", eventID)
	replaced, ok := instructionsNotice(result, notice, nil)
	if !ok {
		out, ok := s.withholdMessage(ctx, id, "uninspectable_response", "mcpgate: result could not be replaced")
		return out, ok, true
	}
	out := resultResponse(id, replaced)
	d := s.enforceEvent(ctx, Decision{Replace: true, Body: out}, eventID, "instructions_drifted",
		slog.String("policy", "tool_pinning"), slog.Any("changes", s.redactChanges(changes, map[string]string{"": instr.String()})))
	if !d.Replace {
		return raw, false, false // passive: logged; the detectors still look
	}
	return d.Body, true, true
}
