package mcpclient

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/mcpgate/mcpgate/detectors/score"
)

// probeMethod is a method no MCP revision defines.
const probeMethod = "mcpgate/audit-unknown-method"

// ProbeUnknownMethod sends a request for a method that does not exist, in
// the session (Streamable HTTP only), and reports the answer: a conforming
// server says -32601 (Method not found).
func (s *Session) ProbeUnknownMethod(ctx context.Context) *score.Probe {
	version := ""
	if res := s.InitializeResult(); res != nil {
		version = res.ProtocolVersion
	}
	body := `{"jsonrpc":"2.0","id":"mcpgate-audit-probe","method":"` + probeMethod + `","params":{}}`
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL, strings.NewReader(body))
	if err != nil {
		return &score.Probe{Detail: err.Error()}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Mcp-Method", probeMethod)
	if id := s.sniff.session(); id != "" {
		req.Header.Set("Mcp-Session-Id", id)
	}
	if version != "" {
		req.Header.Set("Mcp-Protocol-Version", version)
	}
	resp, err := s.http.Do(req)
	if err != nil {
		return &score.Probe{Detail: err.Error()}
	}
	defer resp.Body.Close()
	const limit = 1 << 20
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit))
	if err != nil {
		return &score.Probe{Detail: err.Error()}
	}
	if isSSE(resp.Header.Get("Content-Type")) {
		data = firstEvent(data, limit)
	}
	var msg struct {
		Result json.RawMessage `json:"result"`
		Error  *struct {
			Code int `json:"code"`
		} `json:"error"`
	}
	if json.Unmarshal(data, &msg) != nil || msg.Error == nil && msg.Result == nil {
		return &score.Probe{Detail: fmt.Sprintf("HTTP %d without a JSON-RPC answer", resp.StatusCode)}
	}
	if msg.Error != nil {
		return &score.Probe{ErrorCode: msg.Error.Code}
	}
	return &score.Probe{Result: true}
}
