package mcpclient

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpgate/mcpgate/detectors/score"
	"github.com/mcpgate/mcpgate/pinning"
)

// maxPages bounds pagination, so a server handing out cursors forever
// cannot keep a caller busy until its timeout.
const maxPages = 1000

// PinMethods are the list requests a lockfile is made from.
func PinMethods() []string { return []string{"tools/list", "prompts/list", "resources/templates/list"} }

// AuditMethods are PinMethods and resources/list.
func AuditMethods() []string {
	return []string{"tools/list", "prompts/list", "resources/list", "resources/templates/list"}
}

// Listing is what a server offers, every entry as the bytes on the wire:
// decoding turns 1.50 into 1.5, drops fields the SDK does not know and
// filters tools it finds invalid, and any of that would read as drift at
// the gateway. A nil list was not offered (or not asked for).
type Listing struct {
	URL               string
	Init              *mcp.InitializeResult // nil if the server sent none
	Tools             [][]byte
	Prompts           [][]byte
	Resources         [][]byte
	ResourceTemplates [][]byte
}

// List lists every tool (all pages) and, when the server offers them, its
// prompts and resource templates, and with resources its resources too.
func (s *Session) List(ctx context.Context, resources bool) (Listing, error) {
	l := Listing{URL: s.URL, Init: s.InitializeResult()}
	var prompts, res bool // what the server offers
	if l.Init != nil && l.Init.Capabilities != nil {
		prompts, res = l.Init.Capabilities.Prompts != nil, l.Init.Capabilities.Resources != nil
	}
	// In this order: servers see the requests as they always came.
	lists := []struct {
		method, field string
		want          bool
		into          *[][]byte
		call          func(cursor string) error
	}{
		{"tools/list", "tools", true, &l.Tools, func(c string) error {
			_, err := s.ListTools(ctx, &mcp.ListToolsParams{Cursor: c})
			return err
		}},
		{"prompts/list", "prompts", prompts, &l.Prompts, func(c string) error {
			_, err := s.ListPrompts(ctx, &mcp.ListPromptsParams{Cursor: c})
			return err
		}},
		{"resources/list", "resources", resources && res, &l.Resources, func(c string) error {
			_, err := s.ListResources(ctx, &mcp.ListResourcesParams{Cursor: c})
			return err
		}},
		{"resources/templates/list", "resourceTemplates", res, &l.ResourceTemplates, func(c string) error {
			_, err := s.ListResourceTemplates(ctx, &mcp.ListResourceTemplatesParams{Cursor: c})
			return err
		}},
	}
	for _, li := range lists {
		if !li.want {
			continue
		}
		defs, err := s.listAll(li.method, li.field, li.call)
		if err != nil {
			return l, err
		}
		*li.into = defs
	}
	return l, nil
}

// listAll follows a list method's pagination, returning the raw entries
// of the result field as they came over the wire (never nil).
func (s *Session) listAll(method, field string, list func(cursor string) error) ([][]byte, error) {
	defs := [][]byte{}
	cursor := ""
	seen := map[string]bool{}
	for page := 0; ; page++ {
		if page == maxPages {
			return nil, fmt.Errorf("%s %s: more than %d pages", method, s.URL, maxPages)
		}
		if err := list(cursor); err != nil {
			return nil, fmt.Errorf("%s %s: %w", method, s.URL, err)
		}
		raw, ok := s.rec.take()
		if !ok {
			return nil, fmt.Errorf("%s %s: result not seen on the wire", method, s.URL)
		}
		var res struct {
			NextCursor string `json:"nextCursor"`
		}
		if err := json.Unmarshal(raw, &res); err != nil {
			return nil, fmt.Errorf("%s %s: %w", method, s.URL, err)
		}
		items, err := rawField(raw, field)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", method, s.URL, err)
		}
		defs = append(defs, items...)
		if res.NextCursor == "" {
			return defs, nil
		}
		if seen[res.NextCursor] {
			return nil, fmt.Errorf("%s %s: cursor %q repeats", method, s.URL, res.NextCursor)
		}
		seen[res.NextCursor] = true
		cursor = res.NextCursor
	}
}

// rawField returns the elements of the array member field of a result.
func rawField(raw json.RawMessage, field string) ([][]byte, error) {
	var members map[string]json.RawMessage
	if err := json.Unmarshal(raw, &members); err != nil {
		return nil, err
	}
	var items []json.RawMessage
	if v, ok := members[field]; ok {
		if err := json.Unmarshal(v, &items); err != nil {
			return nil, fmt.Errorf("%s: %w", field, err)
		}
	}
	out := make([][]byte, len(items))
	for i, it := range items {
		out[i] = it
	}
	return out, nil
}

// Lockfile pins the listing: tools and instructions, and prompts and
// resource templates when listed. Created is left for the caller.
func (l Listing) Lockfile() (pinning.Lockfile, error) {
	// Pinning the instructions even when empty means instructions that
	// appear later are a change.
	instructions := ""
	if l.Init != nil {
		instructions = l.Init.Instructions
	}
	set, err := pinning.NewSet(l.Tools, &instructions)
	if err != nil {
		return pinning.Lockfile{}, fmt.Errorf("tools/list %s: %w", l.URL, err)
	}
	lf := pinning.Lockfile{Server: l.URL, Set: set}
	if l.Prompts != nil {
		if lf.Prompts, err = entrySet(l.Prompts, pinning.PromptFields); err != nil {
			return pinning.Lockfile{}, fmt.Errorf("prompts/list %s: %w", l.URL, err)
		}
	}
	if l.ResourceTemplates != nil {
		if lf.ResourceTemplates, err = entrySet(l.ResourceTemplates, pinning.ResourceTemplateFields); err != nil {
			return pinning.Lockfile{}, fmt.Errorf("resources/templates/list %s: %w", l.URL, err)
		}
	}
	return lf, nil
}

func entrySet(defs [][]byte, fields []string) (*pinning.Set, error) {
	s, err := pinning.NewEntrySet(defs, fields)
	return &s, err
}

// Surface is the listing as the MCP Score grades it.
func (l Listing) Surface() (score.Surface, error) {
	var s score.Surface
	if l.Init != nil {
		s.ProtocolVersion, s.Instructions = l.Init.ProtocolVersion, l.Init.Instructions
		if l.Init.ServerInfo != nil {
			s.ServerName, s.ServerVersion = l.Init.ServerInfo.Name, l.Init.ServerInfo.Version
		}
	}
	for _, def := range l.Tools {
		t, err := score.ParseTool(def)
		if err != nil {
			return s, fmt.Errorf("tools/list %s: %w", l.URL, err)
		}
		s.Tools = append(s.Tools, t)
	}
	s.Prompts, s.Resources, s.ResourceTemplates = raws(l.Prompts), raws(l.Resources), raws(l.ResourceTemplates)
	return s, nil
}

func raws(defs [][]byte) []json.RawMessage {
	if defs == nil {
		return nil
	}
	out := make([]json.RawMessage, len(defs))
	for i, d := range defs {
		out[i] = d
	}
	return out
}
