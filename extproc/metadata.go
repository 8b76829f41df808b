package extproc

import (
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/protobuf/types/known/structpb"
)

// MetadataNamespace is the Envoy dynamic metadata namespace mcpgate writes,
// so that Envoy's access log can print %DYNAMIC_METADATA(mcpgate:event_id)%
// and be joined with the audit trail. Envoy drops it unless the ext_proc
// filter lists it in metadata_options.receiving_namespaces.untyped.
const MetadataNamespace = "mcpgate"

// streamMeta is what Envoy has yet to be told about the stream: its id on
// the first reply, then the latest decision. Envoy merges each write into
// the namespace, so a later decision overwrites an earlier one's keys.
type streamMeta struct {
	sent    bool // the stream id went out
	pending *AuditRecord
}

func (m *streamMeta) decided(r AuditRecord) { m.pending = &r }

// attachMetadata adds the dynamic metadata not yet sent to a reply.
func (s *stream) attachMetadata(resp *extprocv3.ProcessingResponse) {
	m := &s.audit.meta
	if resp == nil || (m.sent && m.pending == nil) {
		return
	}
	fields := map[string]*structpb.Value{"stream": structpb.NewStringValue(s.id)}
	if r := m.pending; r != nil {
		fields["event_id"] = structpb.NewStringValue(r.EventID)
		fields["event"] = structpb.NewStringValue(string(r.Event))
		fields["action"] = structpb.NewStringValue(string(r.Action))
		fields["would_action"] = structpb.NewStringValue(string(r.WouldAction))
	}
	resp.DynamicMetadata = &structpb.Struct{Fields: map[string]*structpb.Value{
		MetadataNamespace: structpb.NewStructValue(&structpb.Struct{Fields: fields}),
	}}
	m.sent, m.pending = true, nil
}
