// Package detectors owns mcpgate's content analysis: given a string (a tool
// result, a prompt, a tool description) it reports prompt injection, data
// exfiltration, leaked secrets, personal data, obfuscation tricks and — for
// tool definitions — tool poisoning.
//
// The package is pure computation: no network, no Envoy or gRPC types. A
// Scanner is built once from Options (which compiles every rule and the
// keyword automaton) and is then immutable and safe for concurrent use.
// Options.Model turns on the learned classifier of package classifier
// beside the rules (off by default; see classifier/MODEL.md).
//
// How a scan works, and why it is shaped this way:
//
//   - Text is normalised once (compatibility folding, Cyrillic/Greek
//     lookalikes mapped to Latin, lowercase, invisible characters and ANSI
//     sequences dropped) so that every rule sees the same canonical text and
//     no rule has to handle evasions itself. Pure ASCII text without ESC skips
//     this step entirely. An offset map translates matches back to byte
//     offsets in the original text; it is only built when normalisation
//     changed something.
//
//   - One pass of a hand-written Aho-Corasick automaton over the normalised
//     text finds keyword hits for all rules at once. A rule's regular
//     expression (RE2, linear time) runs only on a small window around its
//     hits, so clean text costs one pass and no regexp work. Keywords that
//     are common in ordinary documentation ("tool", "prompt", "ignore",
//     "###") do not open a window alone: a spec names "near" companions
//     that must precede the hit, or "also" companions one of which must
//     fall inside the window, and windows reach only where a match can be.
//     URL credentials and markdown links are found by hand at "://" and
//     "](http", not by a regexp around every link.
//
//   - Structural signals (tag characters, zero-width and bidi controls, ANSI
//     escapes) are detected during normalisation; numbers (cards, IBANs,
//     SSNs, phones) and encoded blobs (base64, hex) have their own cheap
//     byte scanners with checksums or decoding as the real test.
//
//   - Text *about* attacks is not an attack: a phrase finding that is quoted
//     (quotes, backticks, a fenced block, a string literal in source code)
//     next to words of discussion ("for example", "prompt injection",
//     "template", "patterns:"), or that sits in a security report naming
//     rule ids, is demoted to Low with its excerpt labelled "quoted: "
//     (quoted.go). Low is below the default withholding threshold, so a
//     coding agent reading documentation or this repository is not
//     blocked; the finding is still logged.
//
//   - Some signals are weak alone and strong together (addressed.go,
//     hiddencss.go): text addressed to the AI ("NOTE FOR AI AGENTS:") is
//     medium, and high (injection.addressed_action) when it goes on to
//     order data sent somewhere or a named tool called; an injection
//     inside HTML hidden with CSS adds obfuscation.hidden_text (high).
//     "Call the X tool" alone (injection.tool_call) is low: documentation
//     and system prompts say it all the time.
//
//   - Colour and style SGR escapes are stripped silently; other escapes
//     (conceal, cursor movement, erase, OSC titles and links) are reported.
//     Long runs of variation selectors, percent-encoded runs, letter-spaced
//     text ("I g n o r e  a l l …"), base64 and hex blobs are decoded and
//     scanned once more; phrase windows read JSON string escapes ("\n",
//     "\"") as what they stand for, so text inside a JSON value matches
//     like decoded text.
//
//   - Pressure without an order (injection.persuasion: "it is crucial that
//     you …", "an official request from IT security") is low: people write
//     it to people. Fake completions ("Answer: task complete.") and new-task
//     joiners are medium.
//
// Findings never carry secrets or personal data in clear: excerpts of those
// rules are masked, and attack excerpts are truncated and escaped.
//
// Rule phrases for injection live in tables keyed by language
// (phrases_*.go), so adding a language is adding data, not code.
package detectors
