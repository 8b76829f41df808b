package detectors

// phraseSpec is one rule's phrases for one language: keywords feed the
// Aho-Corasick prefilter, and the patterns run only in a window around a
// keyword hit. Adding a language is adding a phraseSpec; no code changes.
//
// Conventions, checked by New and by TestPhraseSpecs:
//   - patterns are RE2, written in lowercase, and matched against
//     normalised, lower-cased text (so write "ignore", never "Ignore"); a
//     spec's patterns are joined into one regexp, so only a single-pattern
//     spec may use a capture group (it then marks the reported span);
//   - ASCII upper-case escapes (\S, \W, \D, \B) are not allowed, because
//     patterns are normalised like the text and would be lowercased;
//   - \b is ASCII-only in RE2: use it next to ASCII letters only;
//   - every match of a pattern must contain at least one keyword, or the
//     prefilter can never open a window for it.
type phraseSpec struct {
	rule     string
	lang     string // ISO 639-1, "" for language-neutral markers
	keywords []string
	patterns []string
	// check, when set, must accept the normalised match (e.g. "the URL
	// really carries data").
	check func(match string) bool
	// checkOrig passes check the original text of the match instead, for
	// checks where case matters (encoded values).
	checkOrig bool
	// near, when set, must also occur within `before` bytes ahead of the
	// keyword hit; it lets a common anchor ("://", "@") open a window only
	// next to a verb, which keeps regexp work off ordinary links.
	near []string
	// also, when set, must occur somewhere in the window (before or after
	// the keyword): a second anchor for keywords too common to open a
	// window alone. List a literal every match contains.
	also []string
	// before/after override the default window around a keyword hit; set
	// before for languages where the keyword (a verb) ends the phrase.
	before, after int
}

// Windows around a keyword hit, in bytes of normalised text. They bound the
// regexp work per hit and cap how far apart the parts of a phrase may be.
const (
	phraseBefore = 48
	phraseAfter  = 200
)
