package extproc

import (
	"slices"

	"github.com/mcpgate/mcpgate/detectors"
	"github.com/mcpgate/mcpgate/pinning"
)

// redactChanges returns pin changes fit for the audit trail. A change's
// detail can quote the entry's new text (a changed description), which a
// server could fill with a key, so the detail is kept only when the
// detectors find no secret or personal datum in the entry's new
// definition; defs maps entry names to it ("" is the instructions, as
// text). Without a definition, or with the detectors off, nothing can be
// checked and the detail is withheld.
func (s *stream) redactChanges(cs []pinning.Change, defs map[string]string) []pinning.Change {
	if len(cs) == 0 {
		return cs
	}
	out := slices.Clone(cs)
	private := map[string]bool{}
	for i, c := range out {
		p, seen := private[c.Tool]
		if !seen {
			def, ok := defs[c.Tool]
			p = !ok || s.holdsPrivate(c.Tool == "", def)
			private[c.Tool] = p
		}
		if p {
			out[i].Detail = "detail withheld: the new definition holds a secret or personal data, or could not be checked"
		}
	}
	return out
}

// holdsPrivate reports whether the detectors find a secret or personal
// datum in a definition (JSON) or text; true when they are off.
func (s *stream) holdsPrivate(text bool, def string) bool {
	if s.scanner == nil {
		return true
	}
	var fs []detectors.Finding
	if text {
		fs = s.scanner.Scan(def)
	} else {
		var err error
		if fs, err = s.scanner.ScanTool([]byte(def)); err != nil {
			return true
		}
	}
	return slices.ContainsFunc(fs, func(f detectors.Finding) bool {
		return f.Category == detectors.Secret || f.Category == detectors.PII
	})
}
