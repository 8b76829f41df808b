package detectors

import (
	"math"
	"strings"
)

// origSpec is a rule matched on the original (case-preserved) text: secrets
// and e-mail addresses, whose exact characters matter. Keywords are matched
// case-insensitively by the shared automaton; the pattern then decides.
type origSpec struct {
	rule     string
	keywords []string
	// pattern is RE2 on the original text; capture group 1, when present,
	// is the reported span.
	pattern string
	// before/after: bytes around a keyword hit in which the pattern runs.
	before, after int
	// check rejects placeholders and low-entropy look-alikes.
	check func(string) bool
	// keep: bytes of well-known prefix shown in the excerpt (-1: URL scheme).
	keep int
	// find replaces pattern where a regexp would be slow: it appends the
	// spans it finds in text[lo:hi] (absolute offsets).
	find func(text string, lo, hi int, spans [][2]int) [][2]int
}

var origSpecs = []origSpec{
	{rule: "secret.aws_access_key", keywords: []string{"akia", "asia", "abia", "acca"},
		pattern: `\b((?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16})\b`, before: 8, after: 24, check: notPlaceholder, keep: 4},
	{rule: "secret.aws_access_key", keywords: []string{"aws_secret_access_key", "aws_secret_key"},
		pattern: `(?i:aws_secret(?:_access)?_key)["']?\s*[:=]\s*["']?([A-Za-z0-9/+]{40})\b`, before: 0, after: 80, check: looseSecret, keep: 0},
	{rule: "secret.github_token", keywords: []string{"ghp_", "gho_", "ghu_", "ghs_", "ghr_"},
		pattern: `\b(gh[pousr]_[A-Za-z0-9]{36,})\b`, before: 8, after: 260, check: looseSecret, keep: 4},
	{rule: "secret.github_token", keywords: []string{"github_pat_"},
		pattern: `\b(github_pat_[A-Za-z0-9_]{50,})\b`, before: 8, after: 260, check: looseSecret, keep: 11},
	{rule: "secret.gitlab_token", keywords: []string{"glpat-"},
		pattern: `\b(glpat-[A-Za-z0-9_-]{20,})`, before: 8, after: 80, check: looseSecret, keep: 6},
	{rule: "secret.slack_token", keywords: []string{"xoxb-", "xoxp-", "xoxa-", "xoxr-", "xoxs-"},
		pattern: `\b(xox[bpars]-[0-9]{6,}-[0-9A-Za-z-]{8,})`, before: 8, after: 200, check: looseSecret, keep: 5},
	{rule: "secret.stripe_key", keywords: []string{"sk_live_", "rk_live_"},
		pattern: `\b([sr]k_live_[0-9A-Za-z]{20,})\b`, before: 8, after: 260, check: looseSecret, keep: 8},
	{rule: "secret.anthropic_key", keywords: []string{"sk-ant-"},
		pattern: `\b(sk-ant-[A-Za-z0-9_-]{32,})`, before: 8, after: 220, check: looseSecret, keep: 7},
	{rule: "secret.openai_key", keywords: []string{"sk-"},
		pattern: `\b(sk-(?:proj-|svcacct-|admin-|None-)?[A-Za-z0-9_-]{32,})`, before: 8, after: 220, check: openAIKey, keep: 3},
	{rule: "secret.google_api_key", keywords: []string{"aiza"},
		pattern: `\b(AIza[0-9A-Za-z_-]{35})`, before: 8, after: 48, check: notPlaceholder, keep: 4},
	{rule: "secret.private_key", keywords: []string{"-----begin"},
		// The body may use escaped newlines ("\n"), as in a service-account
		// JSON file's "private_key" field.
		pattern: `(-----BEGIN[ A-Z0-9]*PRIVATE KEY(?: BLOCK)?-----(?:[A-Za-z0-9+/=\s:,]|\\[nr])*(?:-----END[ A-Z0-9]*PRIVATE KEY(?: BLOCK)?-----)?)`,
		before:  0, after: 8500, check: privateKeyBody, keep: 10},
	{rule: "secret.jwt", keywords: []string{"eyj"},
		pattern: `\b(eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,})`, before: 8, after: 4096, check: notPlaceholder, keep: 3},
	// scheme://user:password@host. Every URL has "://", so this is done by
	// hand: a regexp over a window around each link was the largest single
	// cost of scanning ordinary documentation.
	{rule: "secret.url_password", keywords: []string{"://"}, find: findURLCredentials, check: urlPassword, keep: -1},

	// Images fetch their URL as soon as they render: one that carries
	// data out is exfiltration without a click.
	{rule: "exfiltration.markdown_image", keywords: []string{"![", "<img"}, find: findImages, check: urlCarriesData},

	// Markdown links whose URL carries template placeholders or data
	// parameters (exfiltration once clicked). Not a secret, but matched
	// here because the link's exact characters are what counts.
	{rule: "exfiltration.markdown_link", keywords: []string{"](http"}, find: findMarkdownLinks, check: linkCarriesPlaceholder},

	// Text hidden with CSS that gives its reader orders (hiddencss.go).
	{rule: "obfuscation.hidden_text", keywords: hidingStyles, find: findHiddenDirective},

	// E-mail addresses are personal data (pii.email); they share the
	// original-text machinery because case and exact characters matter.
	{rule: "pii.email", keywords: []string{"@"}, before: 0, after: 1, find: findEmails},
}

// Documented example credentials and template markers. A token containing
// one of these is someone showing the format, not leaking a key.
var placeholderMarkers = []string{
	"EXAMPLE", "example", "YOUR_", "your_", "YOUR-", "your-", "xxxx", "XXXX", "****", "<", ">", "{", "}", "${",
	"REPLACE", "replace_me", "dummy", "DUMMY", "sample", "SAMPLE", "placeholder", "PLACEHOLDER", "redacted", "REDACTED",
	"...", "0000000000", "1234567890", "abcdefghij", "ABCDEFGHIJ",
}

func notPlaceholder(tok string) bool {
	for _, m := range placeholderMarkers {
		if strings.Contains(tok, m) {
			return false
		}
	}
	return true
}

// looseSecret is for formats with a fixed prefix but free-form body: the
// body must also look random, which rules out "ghp_aaaaaaaa…" style fakes.
func looseSecret(tok string) bool {
	return notPlaceholder(tok) && shannonEntropy(tok) >= 3.0
}

func openAIKey(tok string) bool {
	if strings.HasPrefix(tok, "sk-ant-") {
		return false // secret.anthropic_key reports it
	}
	return looseSecret(tok) && hasDigitAndLetter(tok[3:])
}

func privateKeyBody(block string) bool {
	// A header followed by "..." or nothing is documentation; a real key
	// has a long base64 body.
	head := strings.Index(block, "-----\n")
	if i := strings.Index(block[10:], "-----"); i >= 0 {
		head = 10 + i + 5
	}
	if head < 0 || head > len(block) {
		return false
	}
	run, best := 0, 0
	for i := head; i < len(block); i++ {
		switch {
		case block[i] == '\\' && i+1 < len(block) && (block[i+1] == 'n' || block[i+1] == 'r'):
			i++ // an escaped line break inside a JSON string
		case isBase64Byte(block[i]):
			run++
			best = max(best, run)
		case block[i] != '\n' && block[i] != '\r':
			run = 0
		}
	}
	return best >= 40 && notPlaceholder(block[head:])
}

func urlPassword(u string) bool {
	at := strings.LastIndexByte(u, '@')
	colon := strings.LastIndexByte(u[:at], ':')
	if colon < 0 {
		return false
	}
	pass := u[colon+1 : at]
	// "$PASSWORD", "%s" (format verbs), "****": templates, not values.
	if strings.HasPrefix(pass, "$") || len(pass) > 1 && pass[0] == '%' && isASCIILetter(pass[1]) || strings.Trim(pass, "*x") == "" {
		return false
	}
	if !notPlaceholder(pass) || exampleHost(strings.ToLower(u[at+1:])) {
		return false
	}
	// Examples in documentation and tests use short or dictionary
	// passwords ("go", "bar", "p@ssword", "My%20Pass"); a leaked one is
	// long enough to guess at, without spaces, and not a spelling of
	// "password".
	dec := decodeQueryValue(pass)
	if len(dec) < 8 || strings.ContainsAny(dec, " \t") {
		return false
	}
	var letters []byte
	for i := 0; i < len(dec); i++ {
		if c := dec[i] | 0x20; 'a' <= c && c <= 'z' {
			letters = append(letters, c)
		}
	}
	l := string(letters)
	for _, w := range []string{"password", "passwd", "ssword", "passw", "pasw", "secret", "changeme", "example", "dummy", "letmein", "hunter", "qwerty", "mypass", "yourpass"} {
		if strings.Contains(l, w) {
			return false
		}
	}
	return true
}

// exampleHost: reserved and obviously fake host names of documentation
// and tests (RFC 2606 and common stand-ins).
func exampleHost(host string) bool {
	if i := strings.IndexAny(host, ":/"); i >= 0 {
		host = host[:i]
	}
	for _, d := range []string{"example.com", "example.org", "example.net", "example", "test", "invalid", "localhost.localdomain", "faketld", "dummy", "foo.com", "bar.com", "test.com", "domain.com", "host.com"} {
		if host == d || strings.HasSuffix(host, "."+d) {
			return true
		}
	}
	return false
}

// findURLCredentials expands each "://" in text[lo:hi] to the URL around
// it and reports scheme://user:password@host: a scheme of two or more
// characters starting with a letter at a word boundary, a user without ':',
// a non-empty password, '@' and a host.
func findURLCredentials(text string, lo, hi int, spans [][2]int) [][2]int {
	for i := lo; i+3 <= hi; i++ {
		j := strings.Index(text[i:hi], "://")
		if j < 0 {
			break
		}
		i += j
		a := i
		for a > 0 && i-a < 32 && isSchemeByte(text[a-1]) {
			a--
		}
		// The match starts at the first letter preceded by a non-word byte.
		for a < i && !(isASCIILetter(text[a]) && (a == 0 || !isWordByte(text[a-1]))) {
			a++
		}
		if i-a < 2 {
			continue
		}
		k := i + 3
		user := k
		for k < len(text) && k-user < 256 && !isURLStop(text[k]) && text[k] != ':' {
			k++
		}
		if k == user || k >= len(text) || text[k] != ':' {
			continue
		}
		k++
		pass := k
		for k < len(text) && k-pass < 256 && !isURLStop(text[k]) {
			k++
		}
		if k == pass || k >= len(text) || text[k] != '@' {
			continue
		}
		k++
		host := k
		for k < len(text) && k-host < 256 && (isAlnum(text[k]) || text[k] == '.' || text[k] == '-') {
			k++
		}
		if k == host {
			continue
		}
		spans = append(spans, [2]int{a, k})
		i = k - 1
	}
	return spans
}

func isSchemeByte(c byte) bool { return isAlnum(c) || c == '+' || c == '.' || c == '-' }
func isWordByte(c byte) bool   { return isAlnum(c) || c == '_' }

// isURLStop: bytes that end the user or password part of a URL.
func isURLStop(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '\r', '\f', '\v', '/', '?', '#', '@', '\'', '"', '<', '>':
		return true
	}
	return false
}

// findEmails expands each '@' in text[lo:hi] to the address around it.
// Done by hand because an unanchored regexp would rescan every local-part
// start position.
func findEmails(text string, lo, hi int, spans [][2]int) [][2]int {
	for i := lo; i < hi; i++ {
		if text[i] != '@' {
			continue
		}
		a := i
		for a > 0 && i-a < 64 && isEmailLocal(text[a-1]) {
			a--
		}
		b := i + 1
		lastDot := -1
		for b < len(text) && b-i < 255 && (isAlnum(text[b]) || text[b] == '-' || text[b] == '.') {
			if text[b] == '.' {
				lastDot = b
			}
			b++
		}
		for b > i+1 && (text[b-1] == '.' || text[b-1] == '-') { // trailing sentence dot
			b--
		}
		if lastDot >= b-1 {
			lastDot = strings.LastIndexByte(text[i+1:b], '.')
			if lastDot >= 0 {
				lastDot += i + 1
			}
		}
		if a == i || lastDot < 0 || b-lastDot-1 < 2 || !allLetters(text[lastDot+1:b]) {
			continue
		}
		if realEmail(text[a:b]) {
			spans = append(spans, [2]int{a, b})
		}
	}
	return spans
}

func isEmailLocal(c byte) bool {
	return isAlnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-'
}

func allLetters(s string) bool {
	for i := 0; i < len(s); i++ {
		if !('a' <= s[i]|0x20 && s[i]|0x20 <= 'z') {
			return false
		}
	}
	return true
}

func realEmail(e string) bool {
	at := strings.IndexByte(e, '@')
	if at > 64 || len(e)-at > 255 {
		return false
	}
	domain := strings.ToLower(e[at+1:])
	for _, d := range []string{"example.com", "example.org", "example.net", "example.edu", "domain.com", "email.com", "test.com"} {
		if domain == d || strings.HasSuffix(domain, "."+d) {
			return false
		}
	}
	// "image@2x.png"-style file names are not addresses.
	switch domain[strings.LastIndexByte(domain, '.')+1:] {
	case "png", "jpg", "jpeg", "gif", "svg", "webp", "js", "css":
		return false
	}
	return e[0] != '.' && !strings.Contains(e, "..")
}

func shannonEntropy(s string) float64 {
	var counts [256]int
	for i := 0; i < len(s); i++ {
		counts[s[i]]++
	}
	var h float64
	n := float64(len(s))
	for _, c := range counts {
		if c > 0 {
			p := float64(c) / n
			h -= p * math.Log2(p)
		}
	}
	return h
}

func hasDigitAndLetter(s string) bool {
	var d, l bool
	for i := 0; i < len(s); i++ {
		c := s[i]
		d = d || '0' <= c && c <= '9'
		l = l || 'a' <= c|0x20 && c|0x20 <= 'z'
	}
	return d && l
}

func isBase64Byte(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '+' || c == '/' || c == '='
}
