package pinning

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Tool is one pinned tool.
type Tool struct {
	Name       string          `json:"name"`
	SHA256     string          `json:"sha256"`     // hex SHA-256 of Definition
	Definition json.RawMessage `json:"definition"` // canonical JSON of the model-visible fields
}

// Set is what a server shows the model.
type Set struct {
	Tools        []Tool  `json:"tools"`                  // sorted by name
	Instructions *string `json:"instructions,omitempty"` // server initialize instructions, when pinned
	Fingerprint  string  `json:"fingerprint"`            // hex SHA-256 over the sorted (name, sha256) list and the instructions
}

// visibleFields are the parts of a tool definition the model reads; the
// rest (_meta, icons, execution hints) does not change what it is told.
var visibleFields = []string{"name", "title", "description", "inputSchema", "outputSchema", "annotations"}

// NewTool pins one tool object from a tools/list result.
func NewTool(def []byte) (Tool, error) { return NewEntry(def, visibleFields) }

// The fields the model reads of the other listed items a server offers:
// prompts (prompts/list) and resource templates (resources/templates/list).
var (
	PromptFields           = []string{"name", "title", "description", "arguments"}
	ResourceTemplateFields = []string{"name", "title", "description", "uriTemplate", "mimeType"}
)

// NewEntry pins one listed item by the given model-visible fields; tools
// use NewTool.
func NewEntry(def []byte, fields []string) (Tool, error) {
	v, err := decodeJSON(def)
	if err != nil {
		return Tool{}, fmt.Errorf("definition: %w", err)
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return Tool{}, errors.New("definition: not a JSON object")
	}
	name, ok := obj["name"].(string)
	if !ok || name == "" {
		return Tool{}, errors.New("definition: missing or invalid name")
	}
	visible := map[string]any{}
	for _, k := range fields {
		if v, ok := obj[k]; ok && v != nil {
			visible[k] = v
		}
	}
	canon, err := encodeCanonical(visible)
	if err != nil {
		return Tool{}, fmt.Errorf("%q: %w", name, err)
	}
	return Tool{Name: name, SHA256: hashHex(canon), Definition: canon}, nil
}

// NewEntrySet pins a list of prompts or resource templates.
func NewEntrySet(defs [][]byte, fields []string) (Set, error) {
	return newSet(defs, nil, func(d []byte) (Tool, error) { return NewEntry(d, fields) })
}

func NewSet(tools [][]byte, instructions *string) (Set, error) {
	return newSet(tools, instructions, NewTool)
}

func newSet(tools [][]byte, instructions *string, pin func([]byte) (Tool, error)) (Set, error) {
	s := Set{Tools: make([]Tool, 0, len(tools)), Instructions: instructions}
	for i, def := range tools {
		t, err := pin(def)
		if err != nil {
			return Set{}, fmt.Errorf("tool %d: %w", i, err)
		}
		s.Tools = append(s.Tools, t)
	}
	slices.SortFunc(s.Tools, func(a, b Tool) int { return strings.Compare(a.Name, b.Name) })
	for i := 1; i < len(s.Tools); i++ {
		if s.Tools[i].Name == s.Tools[i-1].Name {
			// Which of two same-named tools a client calls is up to the
			// client: pinning either would be a guess.
			return Set{}, fmt.Errorf("duplicate tool name %q", s.Tools[i].Name)
		}
	}
	s.Fingerprint = s.fingerprint()
	return s, nil
}

// fingerprint hashes a JSON encoding rather than joined strings, so no
// tool name, however odd, can make two different sets hash the same.
func (s Set) fingerprint() string {
	fp := struct {
		Tools        [][2]string `json:"tools"`
		Instructions *string     `json:"instructions,omitempty"`
	}{Tools: make([][2]string, len(s.Tools)), Instructions: s.Instructions}
	for i, t := range s.Tools {
		fp.Tools[i] = [2]string{t.Name, t.SHA256}
	}
	data, _ := json.Marshal(fp) // strings only: cannot fail
	return hashHex(data)
}

// Tool returns the pinned tool called name.
func (s Set) Tool(name string) (Tool, bool) {
	i, ok := slices.BinarySearchFunc(s.Tools, name, func(t Tool, n string) int { return strings.Compare(t.Name, n) })
	if !ok {
		return Tool{}, false
	}
	return s.Tools[i], true
}

func hashHex(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}
