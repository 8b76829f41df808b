package main

import (
	"log/slog"
	"os"
	"strings"
	"testing"
)

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, os.ErrClosed }

// TestAuditWriteFailureLogged checks that lost audit records are reported
// (slog drops write errors), once per interval rather than per record.
func TestAuditWriteFailureLogged(t *testing.T) {
	var logs strings.Builder
	w := &reportingWriter{w: failingWriter{}, log: slog.New(slog.NewJSONHandler(&logs, nil))}
	for range 3 {
		if _, err := w.Write([]byte("{}\n")); err == nil {
			t.Fatal("error not returned")
		}
	}
	if n := strings.Count(logs.String(), "audit trail write failed"); n != 1 {
		t.Errorf("%d error lines, want 1:\n%s", n, logs.String())
	}
}
