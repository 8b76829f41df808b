// Package detectors owns mcpgate's content analysis: given a string (a tool
// result, a prompt, a tool description) it reports prompt injection, data
// exfiltration, leaked secrets, personal data, obfuscation tricks and — for
// tool definitions — tool poisoning.
//
// The package is pure computation: no network, no Envoy or gRPC types, no
// models. A Scanner is built once from Options (which compiles every rule and
// the keyword automaton) and is then immutable and safe for concurrent use.
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
//   - One pass of a hand-written Aho-Corasick automaton over the normalised
//     text finds keyword hits for all rules at once. A rule's regular
//     expression (RE2, linear time) runs only on a small window around its
//     hits, so clean text costs one pass and no regexp work.
//   - Structural signals (tag characters, zero-width and bidi controls, ANSI
//     escapes) are detected during normalisation; numbers (cards, IBANs,
//     SSNs, phones) and encoded blobs (base64, hex) have their own cheap
//     byte scanners with checksums or decoding as the real test.
//
// Findings never carry secrets or personal data in clear: excerpts of those
// rules are masked, and attack excerpts are truncated and escaped.
//
// Rule phrases for injection live in tables keyed by language
// (phrases_*.go), so adding a language is adding data, not code.
package detectors
