// Package classifier is mcpgate's learned prompt-injection detector: a
// linear model with two logistic heads (attack, exfiltration) over hashed
// word uni/bi-grams and character 4-grams of lower-cased text, its int8
// weights embedded in the binary (weights.bin: 2^18 buckets × 2 heads,
// 512 KiB, small enough to stay in a core's L2 cache).
//
// A text is scored in windows of two 128-byte blocks that overlap by one
// block, so one injected paragraph in a long benign document stands out
// rather than being averaged away; the result is the top window per head.
// A window's logit is bias + scale·Σw/sqrt(max(n, MinCount)) over its n
// features. Scoring reads each byte once, does about 1.3 table loads per
// byte and allocates nothing.
//
// The weights are trained by internal/train (make model) from the shared
// corpus, only on rows whose licence allows shipping them; MODEL.md is the
// model card: data, licences, row counts, leave-one-source-out results and
// known weaknesses.
package classifier
