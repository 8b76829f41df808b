// Package classifier is mcpgate's learned prompt-injection detector: a
// linear model (two logistic heads, attack and exfiltration) over hashed
// word uni/bi-grams and character 3-5-grams of lower-cased text, with int8
// weights embedded in the binary (weights.bin, 2 MiB).
//
// A text is scored in windows of two 256-byte blocks that overlap by one
// block, so one injected paragraph in a long benign document stands out
// rather than being averaged away; the result is the top window per head.
// Scoring reads each byte once, does five table loads per byte and
// allocates nothing.
//
// The weights are trained by internal/train (make model) from the shared
// corpus, only on rows whose licence allows shipping them; MODEL.md is the
// model card: data, licences, row counts, leave-one-source-out results and
// known weaknesses.
package classifier
