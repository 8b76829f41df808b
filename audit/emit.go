package audit

import (
	"cmp"
	"context"
	"io"
	"log/slog"
	"unicode/utf8"
)

// NewLogger returns the logger that writes audit records to w as JSON
// lines, without slog's level and message keys.
func NewLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) == 0 && (a.Key == slog.LevelKey || a.Key == slog.MessageKey) {
				return slog.Attr{}
			}
			return a
		},
	}))
}

// liftedKeys are attributes that callers pass as details but that have a
// schema field of their own.
var liftedKeys = map[string]bool{"tool": true, "rule": true, "severity": true, "method": true}

// Lift moves the details that have a schema field of their own (tool,
// rule, severity, method, as strings) into r, unless r has them already,
// and returns the rest.
func (r *Record) Lift(details []slog.Attr) []slog.Attr {
	var rest []slog.Attr
	for _, a := range details {
		if !liftedKeys[a.Key] || a.Value.Kind() != slog.KindString {
			rest = append(rest, a)
			continue
		}
		v := a.Value.String()
		switch a.Key {
		case "tool":
			r.Tool = cmp.Or(r.Tool, v)
		case "rule":
			r.Rule = cmp.Or(r.Rule, v)
		case "severity":
			r.Severity = cmp.Or(r.Severity, v)
		case "method":
			r.Method = cmp.Or(r.Method, v)
		}
	}
	return rest
}

// Emit writes r, with details under "details", as one audit line. It is
// the only writer of records: the key order and which keys are left out
// when empty are part of the schema. Time is the log's own.
func Emit(ctx context.Context, log *slog.Logger, r Record, details []slog.Attr) {
	attrs := make([]slog.Attr, 0, 20)
	add := func(k, v string) {
		if v != "" {
			attrs = append(attrs, slog.String(k, v))
		}
	}
	add("event_id", r.EventID)
	add("event", string(r.Event))
	add("mode", r.Mode)
	add("action", string(r.Action))
	add("would_action", string(r.WouldAction))
	add("stream", r.Stream)
	add("session", r.Session)
	add("backend", r.Backend)
	add("protocol_version", r.ProtocolVersion)
	add("method", r.Method)
	add("tool", Truncate(r.Tool, 64))
	add("rule", r.Rule)
	add("category", r.Category)
	add("severity", r.Severity)
	add("field", Truncate(r.Field, 128))
	add("excerpt", r.Excerpt)
	add("evidence", r.Evidence)
	if len(details) > 0 {
		attrs = append(attrs, slog.Attr{Key: "details", Value: slog.GroupValue(details...)})
	}
	msg := "mcpgate decision"
	if r.Event == Finding {
		msg = "mcpgate finding"
	}
	log.LogAttrs(ctx, slog.LevelWarn, msg, attrs...)
}

// Truncate bounds an attacker-chosen string before it is logged or
// printed, cutting at a rune boundary.
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
