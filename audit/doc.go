// Package audit owns mcpgate's audit trail: the record schema (one JSON
// line per finding or decision), the typed vocabulary of events and
// actions, the one emitter that writes records, size-based rotation of the
// trail file, and the aggregation `mcpgate report` and the admin page
// build from records read back. docs/audit-trail.md documents the schema;
// TestWireFormat keeps the bytes written stable.
package audit
