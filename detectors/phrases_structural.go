package detectors

import (
	"regexp"
	"strings"
)

// Language-neutral markers, exfiltration and tool-poisoning phrases.
var structuralPhrases = []phraseSpec{
	// Chat-template markers have no business in tool output or documents: a
	// model may take what follows for a real system or user turn.
	{rule: "injection.chat_marker",
		keywords: []string{"<|", "[inst]", "[/inst]", "<<sys>>", "<</sys>>", "<system>", "</system>", "_of_turn>"},
		before:   8, after: 24,
		patterns: []string{
			`<\|(?:im_start|im_end|im_sep|system|user|assistant|endoftext|eot_id|begin_of_text|start_header_id|end_header_id|end|tool)\|>`,
			`\[/?inst\]`,
			`<</?sys>>`,
			`</?system>`,
			`<(?:start|end)_of_turn>`,
		}},
	// "### System:" headings; "###" alone is every markdown heading.
	{rule: "injection.chat_marker",
		keywords: []string{"# system", "# instruction", "# assistant", "#system", "#instruction", "#assistant"},
		before:   24, after: 20,
		patterns: []string{
			`(?m)^[ \t]*#{2,}[ \t]*(?:system|instruction|instructions|assistant)[ \t]*:?[ \t]*$`,
			`(?m)^[ \t]*#{2,}[ \t]*(?:system|instruction|instructions)[ \t]*:`,
		}},
	{rule: "injection.important_tag",
		after:    260,
		keywords: []string{"<important", "<instruction", "<system", "<admin", "<secret", "<hidden", "<critical", "[important", "[system", "[admin", "[instruction", "<!--"},
		patterns: []string{
			`<\s*(?:important|instructions?|system[_ -]?(?:message|prompt|instructions?|override|note)|admin(?:[_ -]instructions?)?|secret|hidden(?:[_ -]instructions?)?|critical)\s*>`,
			// Not "[instructions]": a markdown reference link.
			`\[\s*(?:important|system\s+(?:note|message|override)|admin)\s*\]`,
			// A hidden comment that speaks to the model; issue templates'
			// "<!-- follow the instructions -->" speak to people.
			// A hidden comment giving its reader orders.
			`<!--[^>]*?\b(?:i\s+want\s+you\s+to|you\s+are\s+now|from\s+now\s+on|your\s+(?:new\s+|real\s+)?task\s+is|forget\s+(?:everything|all\s+(?:previous|prior|the))|do\s+not\s+(?:tell|inform)\s+the\s+user)\b`,
			`<!--\s*(?:olvid[ae]|oublie[sz]?|vergiss|ignor[ae]|esqueça|dimentica)\s`,
			`<!--\s*(?:\w+\s+){0,3}?(?:ignore|disregard|forget)\s+(?:the|this|all|any|previous|prior|above|everything|your|la|el|los|las|le|les|die|der|das|todo|tout|alles)\b`,
			`<!--[^>]*?\b(?:ai\s+(?:assistant|model|agent)s?|assistants?|the\s+model|llms?|language\s+models?|ai\s+readers?|(?:coding\s+)?agents?)\b`,
		}},

	// Exfiltration.
	{rule: "exfiltration.send_to",
		keywords: []string{"://", "www.", "@"},
		near:     []string{"send", "upload", "forward", "transmit", "exfiltrate", "leak", "submit", "deliver"},
		before:   240, after: 220,
		patterns: []string{
			`\b(?:send|upload|forward|transmit|exfiltrate|leak|submit|deliver)\b[^\n]*?\b(?:conversation|chat|history|data|contents?|files?|credentials?|passwords?|keys?|tokens?|secrets?|environment|env|variables|logs?|cookies?|session|personal|private|confidential|information|info|details|documents?|inbox|emails?|messages?|output|results?|summary|everything|memory|context|prompt)\b[^\n]*?\b(?:to|at|into|via|using)\s+(?:(?:https?://|ftp://|www\.)[^\s)>"']*|[a-z0-9._%+-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}\b)`,
		},
		check: realDestination},
	{rule: "exfiltration.http_tool", after: 260,
		// "curl " with its space: bare "curl" opens a window at every "curling".
		keywords: []string{"curl ", "wget", "webhook", "requestbin", "pipedream", "ngrok", "burpcollaborator", "interact.sh", "oast.", "requests.post", "invoke-webrequest"},
		patterns: []string{
			// A backtick counts only as command substitution ("`cat …`"),
			// not as the end of inline code ("`curl`").
			`\b(?:curl|wget|invoke-webrequest)\b[^\n]*?(?:\$\(|` + "`" + `(?:cat|env|printenv|whoami|hostname|base64|id|ls|echo)\b|@~|@/etc|@\.env|~/\.ssh|\.env\b|id_rsa|/etc/passwd|/etc/shadow|\$home|\bprintenv\b|\benv\b|\$\{?[a-z_]*(?:key|token|secret|pass))`,
			`\b(?:cat|type|base64|printenv|env)\b[^\n|]*\|\s*(?:curl|wget|nc)\b`,
			`https?://[a-z0-9.-]*(?:webhook\.site|requestbin|pipedream\.net|ngrok\.io|ngrok-free\.app|burpcollaborator\.net|interact\.sh|oast\.(?:fun|me|pro|site|live|online))`,
			`\brequests\.post\(\s*["']https?://[^"']+["']\s*,[^)]*?\b(?:environ|getenv|cookie|password|passwd|token|secret|keylog|clipboard|getpass)`,
		},
		check: notAuthHeader},
	{rule: "exfiltration.sensitive_file", before: 110, after: 80,
		keywords: []string{".ssh", "id_rsa", "id_ed25519", "id_ecdsa", ".env", ".aws", "/etc/passwd", "/etc/shadow", ".npmrc", ".netrc", ".git-credentials", ".kube", ".pgpass", ".bash_history", "wallet.dat", "credentials.json", "mcp.json"},
		patterns: []string{
			`\b(?:read|cat|open|load|fetch|include|attach|send|upload|copy|print|dump|paste|pass|provide|extract|grab|access|exfiltrate|leak|forward)\b[^\n]*?(?:~/\.ssh\b(?:/[a-z0-9_.-]+)?|\.ssh/[a-z0-9_.-]*|\bid_(?:rsa|dsa|ecdsa|ed25519)\b|~/\.env\b|\.aws/credentials|/etc/(?:passwd|shadow)\b|\.npmrc\b|\.netrc\b|\.git-credentials\b|\.kube/config\b|\.pgpass\b|\.bash_history\b|wallet\.dat\b|credentials\.json\b|~/\.cursor/mcp\.json|claude_desktop_config\.json)`,
			`\b(?:read|cat|send|upload|leak|exfiltrate|pass|include|attach)\b[^\n]*?(?:the\s+)?(?:contents?\s+of\s+)?(?:the\s+)?(?:user's\s+)?\.env\s+(?:file)?[^\n]*?\b(?:to|into|as|in)\b`,
		},
		check: notPublicSSHFile},

	// Tool poisoning: only applied to tool definitions (ScanTool), where a
	// description speaking to "the assistant" is itself the signal.
	{rule: "poisoning.model_directive", lang: "en", before: 24,
		keywords: []string{"before using", "before calling", "before invoking", "always call", "always use", "always run", "always invoke", "assistant must", "model must", "ai must", "llm must", "agent must", "assistant should", "model should", "you must first", "you must always", "must be called first", "<important"},
		patterns: []string{
			`\bbefore\s+(?:using|calling|invoking|running)\s+(?:this|the|any)\s+(?:tool|function)\b[^.\n]*?\b(?:read|call|run|fetch|open|send|include|pass|check|load)\b`,
			`\balways\s+(?:call|use|run|invoke)\s+[^.\n]+?\b(?:first|before|beforehand)\b`,
			`\b(?:the\s+)?(?:assistant|model|ai|llm|agent)\s+(?:must|should|shall|needs\s+to|is\s+required\s+to)\s+(?:always|first|never|also|not|ignore|call|read|send|include|pass)\b`,
			`\byou\s+must\s+(?:first|always)\s+(?:call|read|run|use|invoke|send|include|pass)\b`,
			`\bmust\s+be\s+called\s+(?:first|before)\b`,
		}},
	{rule: "poisoning.tool_shadowing", lang: "en", before: 80,
		keywords: []string{"tool", "function"},
		patterns: []string{
			`\bwhen\s+(?:the\s+)?[` + "`" + `'"]?[a-z0-9_.-]+[` + "`" + `'"]?\s+(?:tool|function)\s+is\s+(?:used|called|invoked|run|available)\b`,
			`\b(?:when|whenever|if)\s+(?:you\s+)?(?:use|call|invoke|using|calling|invoking)\s+(?:any\s+)?(?:other|another|all\s+other)\s+(?:tools?|functions?)\b`,
			`\b(?:instead\s+of|rather\s+than)\s+(?:using|calling)\s+(?:the\s+)?[` + "`" + `'"]?[a-z0-9_.-]+[` + "`" + `'"]?\s+(?:tool|function)\b`,
			`\b(?:modify|change|override|alter|replace)\s+the\s+behaviou?r\s+of\s+(?:the\s+)?(?:[` + "`" + `'"]?[a-z0-9_.-]+[` + "`" + `'"]?\s+)?(?:tool|function)`,
			`\b(?:all|any|every)\s+(?:other\s+)?(?:emails?|messages?|requests?)\s+(?:sent|made)\s+(?:with|via|through|using)\s+(?:the\s+)?[` + "`" + `'"]?[a-z0-9_.-]+[` + "`" + `'"]?\s+(?:tool|function)\b`,
		}},
	{rule: "poisoning.file_param", lang: "en", before: 80,
		keywords: []string{"content", "contents", "as '", "as \"", "parameter", "argument", "field"},
		patterns: []string{
			`\b(?:pass|put|include|provide|send|add|insert|embed|place|attach|supply)\b[^.\n]*?\b(?:content|contents|text|value)s?\s+of\s+[^\n]+?\b(?:as|in|into|to|inside)\s+(?:the\s+)?[` + "`" + `'"]?[a-z_][a-z0-9_]*[` + "`" + `'"]?\s*(?:parameter|param|argument|arg|field)?`,
			`\bread\s+[^\n]+?\band\s+(?:pass|put|include|send|provide|add)\s+(?:it|its\s+contents?|the\s+contents?)\s+(?:as|in|into|to)\s+(?:the\s+)?[` + "`" + `'"]?[a-z_][a-z0-9_]*`,
		}},
}

// realDestination rejects "send an email to X": the e-mail is the
// channel, not the data. (Example domains are not excluded: attack
// samples use them as much as documentation does.)
func realDestination(match string) bool {
	return !channelOnly.MatchString(match)
}

var channelOnly = regexp.MustCompile(`^(?:send|forward|submit|deliver)\s+(?:an?\s+|the\s+)?(?:e-?mail|message|note|reply|response)\s+(?:to|at)\s`)

// notAuthHeader rejects a curl command whose only suspicious part is an
// API key variable in an authentication header: that is how every API's
// documentation shows a request ("-H \"Authorization: Bearer $API_KEY\"").
func notAuthHeader(match string) bool {
	i := strings.LastIndexByte(match, '$')
	if i < 0 || !strings.HasPrefix(match, "curl") {
		return true
	}
	before := match[max(0, i-40):i]
	for _, h := range []string{"bearer ", "authorization:", "api-key:", "apikey:", "token:", "x-api-key", "-u ", "--user "} {
		if strings.Contains(before, h) {
			return false
		}
	}
	return true
}

// notPublicSSHFile rejects SSH files that hold no secret: public keys,
// authorized_keys and known_hosts (listing them is routine).
func notPublicSSHFile(match string) bool {
	i := strings.LastIndex(match, ".ssh/")
	if i < 0 {
		return true
	}
	name := match[i+len(".ssh/"):]
	return !(strings.HasPrefix(name, "authorized_keys") || strings.HasPrefix(name, "known_hosts") || strings.HasSuffix(name, ".pub"))
}

// urlCarriesData reports whether a URL inside a normalised markdown image
// or <img> tag looks like it smuggles data out: a template placeholder, an
// exfiltration-named parameter, or a value that looks like data — long and
// random (encoded), or several words (conversation text). CDN, avatar and
// badge parameters (sizes, quality, styles, signatures) do not count.
func urlCarriesData(match string) bool {
	q := urlQuery(match)
	if urlCarriesPlaceholder(strings.ToLower(match)) {
		return true
	}
	if q == "" {
		return false
	}
	for _, kv := range strings.FieldsFunc(q, func(r rune) bool { return r == '&' || r == ';' }) {
		k, v, _ := strings.Cut(kv, "=")
		if v == "" {
			v, k = k, ""
		}
		k = strings.ToLower(k)
		if signingParam(k) {
			continue
		}
		v = decodeQueryValue(v)
		switch {
		case dataParamNames[k] && len(v) >= 12 && looksLikeData(v, 3.0):
			return true
		case len(v) >= 32 && looksLikeData(v, 4.0):
			return true
		}
	}
	return false
}

// looksLikeData: several words of text, base64 of readable text, or a
// random-looking token (by Shannon entropy per byte).
func looksLikeData(v string, minEntropy float64) bool {
	if strings.Count(strings.TrimSpace(v), " ") >= 3 {
		return true
	}
	if d := decodeBase64(v); len(d) >= 12 && readable(d) {
		return true
	}
	return shannonEntropy(v) >= minEntropy
}

// signingParam: parameters of signed CDN and object-store URLs (S3,
// GCS, Azure SAS, CloudFront), long and random by design.
func signingParam(k string) bool {
	if strings.HasPrefix(k, "x-amz-") || strings.HasPrefix(k, "x-goog-") {
		return true
	}
	switch k {
	case "signature", "sig", "se", "sp", "sv", "sr", "st", "spr", "skoid", "sktid", "skt", "ske", "sks", "skv",
		"expires", "policy", "key-pair-id", "hmac", "hash", "h", "v", "ver", "version", "cache", "cb", "etag":
		return true
	}
	return false
}

// decodeQueryValue undoes percent-encoding and '+' for spaces, leaving
// invalid escapes as they are.
func decodeQueryValue(v string) string {
	if !strings.ContainsAny(v, "%+") {
		return v
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c == '+':
			b.WriteByte(' ')
		case c == '%' && i+2 < len(v) && isHex(v[i+1]) && isHex(v[i+2]):
			b.WriteByte(unhex(v[i+1])<<4 | unhex(v[i+2]))
			i += 2
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func isHex(c byte) bool { return isDigit(c) || 'a' <= c|0x20 && c|0x20 <= 'f' }

func unhex(c byte) byte {
	if isDigit(c) {
		return c - '0'
	}
	return c | 0x20 - 'a' + 10
}

// urlCarriesPlaceholder is the stricter test used for plain links, which
// often carry ordinary query strings: only template syntax or an explicit
// data parameter counts.
func urlCarriesPlaceholder(match string) bool {
	q := urlQuery(match)
	if q == "" {
		return false
	}
	// "%7b%22" is URL-encoded JSON (an install link's config), not a
	// template slot.
	for _, p := range []string{"{{", "{", "}", "$", "%7b", "<", "%3c", "[", "%5b"} {
		if strings.Contains(strings.ReplaceAll(q, "%7b%22", ""), p) {
			return true
		}
	}
	for _, kv := range strings.FieldsFunc(q, func(r rune) bool { return r == '&' || r == ';' }) {
		k, _, _ := strings.Cut(kv, "=")
		if exfilParamNames[k] {
			return true
		}
	}
	return false
}

// findImages expands each "![" or "<img" in text[lo:hi] to the image and
// its URL: ![alt](http…) with the alt text on one line, or an <img> tag's
// http(s) src. By hand, like links: a regexp over the long window an alt
// text or a tag may need was most of the cost at every image.
func findImages(text string, lo, hi int, spans [][2]int) [][2]int {
	const maxAlt, maxTag, maxURL = 1000, 1300, 2048
	for i := lo; i < hi; i++ {
		switch {
		case strings.HasPrefix(text[i:], "!["):
			close := strings.IndexByte(text[i+2:min(len(text), i+2+maxAlt)], ']')
			if close < 0 || strings.IndexByte(text[i+2:i+2+close], '\n') >= 0 {
				continue
			}
			u := i + 2 + close + 1
			if u >= len(text) || text[u] != '(' {
				continue
			}
			u++
			for u < len(text) && (text[u] == ' ' || text[u] == '\t' || text[u] == '\n') {
				u++
			}
			if u < len(text) && text[u] == '<' {
				u++
			}
			if end := urlEnd(text, u, maxURL, ")>"); end > u {
				spans = append(spans, [2]int{i, end})
			}
		case len(text)-i >= 5 && strings.EqualFold(text[i:i+4], "<img") && !isAlnum(text[i+4]):
			gt := strings.IndexByte(text[i:min(len(text), i+maxTag)], '>')
			tag := text[i:]
			if gt >= 0 {
				tag = text[i : i+gt]
			} else {
				tag = text[i:min(len(text), i+maxTag)]
			}
			lower := strings.ToLower(tag)
			for k := 0; ; {
				s := strings.Index(lower[k:], "src")
				if s < 0 {
					break
				}
				s += k
				k = s + 3
				if s == 0 || isAlnum(lower[s-1]) || lower[s-1] == '-' || lower[s-1] == '_' {
					continue
				}
				j := s + 3
				for j < len(lower) && (lower[j] == ' ' || lower[j] == '\t' || lower[j] == '\n') {
					j++
				}
				if j >= len(lower) || lower[j] != '=' {
					continue
				}
				j++
				for j < len(lower) && (lower[j] == ' ' || lower[j] == '\t' || lower[j] == '\n') {
					j++
				}
				if j < len(lower) && (lower[j] == '"' || lower[j] == '\'') {
					j++
				}
				if end := urlEnd(text, i+j, maxURL, "\"'>"); end > i+j {
					spans = append(spans, [2]int{i, end})
				}
				break
			}
		}
	}
	return spans
}

// urlEnd returns the end of the http(s) URL starting at u (u itself when
// there is none): up to whitespace or one of stops, at most limit bytes.
func urlEnd(text string, u, limit int, stops string) int {
	rest := text[u:]
	n := 0
	switch {
	case len(rest) >= 8 && strings.EqualFold(rest[:8], "https://"):
		n = 8
	case len(rest) >= 7 && strings.EqualFold(rest[:7], "http://"):
		n = 7
	default:
		return u
	}
	end := u + n
	for end < len(text) && end-u < limit && !strings.ContainsRune(" \t\n\r\f"+stops, rune(text[end])) {
		end++
	}
	if end == u+n {
		return u
	}
	return end
}

// findMarkdownLinks expands each "](http" in text[lo:hi] to the markdown
// link around it, [label](http…), label on one line and at most
// maxLinkLabel bytes, not an image (no '!' before '['). By hand, because a
// regexp over a kilobyte window at every link was a large share of the
// cost of scanning documentation.
func findMarkdownLinks(text string, lo, hi int, spans [][2]int) [][2]int {
	const maxLinkLabel, maxLinkURL = 210, 1010
	for i := lo; i < hi; i++ {
		j := strings.Index(text[i:hi], "](")
		if j < 0 {
			break
		}
		p := i + j // the ']'
		i = p
		u := p + 2
		if len(text)-u < 7 || !strings.EqualFold(text[u:u+4], "http") {
			continue
		}
		rest := text[u+4:]
		if len(rest) > 0 && (rest[0] == 's' || rest[0] == 'S') {
			rest = rest[1:]
		}
		if !strings.HasPrefix(rest, "://") {
			continue
		}
		// The label opens at the nearest '[' (a JSON array around a
		// link in a string is not part of it).
		open := -1
		for k := p - 1; k >= 0 && p-k <= maxLinkLabel && text[k] != ']' && text[k] != '\n'; k-- {
			if text[k] == '[' {
				if k == 0 || text[k-1] != '!' {
					open = k
				}
				break
			}
		}
		if open < 0 || open == p-1 {
			continue
		}
		end := u
		for end < len(text) && end-u < maxLinkURL && !isLinkStop(text[end]) {
			end++
		}
		spans = append(spans, [2]int{open, end})
	}
	return spans
}

func isLinkStop(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == ')' || c == '>'
}

// linkCarriesPlaceholder is urlCarriesPlaceholder on original (not
// lower-cased) link text.
func linkCarriesPlaceholder(link string) bool {
	if i := strings.Index(link, "]("); i >= 0 {
		link = link[i+2:] // the label is text, not part of the URL
	}
	return urlCarriesPlaceholder(strings.ToLower(link))
}

// urlQuery returns the query of the URL in match: what a fetch sends to
// the server. The fragment (after '#') never leaves the client, so it
// carries nothing out (pages keep app state there as encoded JSON).
func urlQuery(match string) string {
	i := strings.IndexByte(match, '?')
	if i < 0 {
		return ""
	}
	q := match[i+1:]
	if j := strings.IndexByte(q, '#'); j >= 0 {
		q = q[:j]
	}
	return q
}

// Query parameter names that carry data in exfiltration payloads. The
// longer list applies to images, which fetch automatically; links need a
// click and routinely carry ids, so only unambiguous names count there.
var (
	exfilParamNames = map[string]bool{"data": true, "exfil": true, "leak": true, "secret": true, "secrets": true, "payload": true, "stolen": true, "conversation": true, "chat": true, "history": true, "memory": true}
	dataParamNames  = map[string]bool{"data": true, "d": true, "exfil": true, "leak": true, "secret": true, "secrets": true, "payload": true, "stolen": true, "conversation": true, "chat": true, "history": true, "memory": true, "context": true, "info": true, "content": true, "msg": true, "message": true, "messages": true, "token": true, "key": true, "api_key": true, "apikey": true, "password": true, "pass": true, "pwd": true, "email": true, "ssn": true, "user": true, "q": true, "prompt": true}
)
