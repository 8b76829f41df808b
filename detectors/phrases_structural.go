package detectors

import "strings"

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
			`\[\s*(?:important|system\s+(?:note|message|override)|admin|instructions?)\s*\]`,
			`<!--[^>]*?\b(?:ignore|instruction|instructions|assistant|ai model|the model|you must)\b`,
		}},

	// Exfiltration.
	{rule: "exfiltration.markdown_image", after: 1300,
		keywords: []string{"![", "<img"},
		patterns: []string{
			`!\[[^\]\n]*\]\(\s*<?https?://[^\s)>]+`,
			`<img\b[^>]*?\bsrc\s*=\s*["']?https?://[^\s"'>]+`,
		},
		check: urlCarriesData},
	{rule: "exfiltration.send_to",
		keywords: []string{"://", "www.", "@"},
		near:     []string{"send", "upload", "forward", "transmit", "exfiltrate", "leak", "submit", "deliver"},
		before:   240, after: 220,
		patterns: []string{
			`\b(?:send|upload|forward|transmit|exfiltrate|leak|submit|deliver)\b[^\n]*?\b(?:conversation|chat|history|data|contents?|files?|credentials?|passwords?|keys?|tokens?|secrets?|environment|env|variables|logs?|cookies?|session|personal|private|confidential|information|info|details|documents?|inbox|emails?|messages?|output|results?|summary|everything|memory|context|prompt)\b[^\n]*?\b(?:to|at|into|via|using)\s+(?:(?:https?://|ftp://|www\.)[^\s)>"']*|[a-z0-9._%+-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}\b)`,
		}},
	{rule: "exfiltration.http_tool", after: 260,
		// "curl " with its space: bare "curl" opens a window at every "curling".
		keywords: []string{"curl ", "wget", "webhook", "requestbin", "pipedream", "ngrok", "burpcollaborator", "interact.sh", "oast.", "requests.post", "invoke-webrequest"},
		patterns: []string{
			`\b(?:curl|wget|invoke-webrequest)\b[^\n]*?(?:\$\(|` + "`" + `|@~|@/etc|@\.env|~/\.ssh|\.env\b|id_rsa|/etc/passwd|/etc/shadow|\$home|\bprintenv\b|\benv\b|\$\{?[a-z_]*(?:key|token|secret|pass))`,
			`\b(?:cat|type|base64|printenv|env)\b[^\n|]*\|\s*(?:curl|wget|nc)\b`,
			`https?://[a-z0-9.-]*(?:webhook\.site|requestbin|pipedream\.net|ngrok\.io|ngrok-free\.app|burpcollaborator\.net|interact\.sh|oast\.(?:fun|me|pro|site|live|online))`,
			`\brequests\.post\(\s*["']https?://[^"']+["']\s*,[^)]*?\b(?:environ|getenv|cookie|password|passwd|token|secret|keylog|clipboard|getpass)`,
		}},
	{rule: "exfiltration.sensitive_file", before: 110, after: 80,
		keywords: []string{".ssh", "id_rsa", "id_ed25519", "id_ecdsa", ".env", ".aws", "/etc/passwd", "/etc/shadow", ".npmrc", ".netrc", ".git-credentials", ".kube", ".pgpass", ".bash_history", "wallet.dat", "credentials.json", "mcp.json"},
		patterns: []string{
			`\b(?:read|cat|open|load|fetch|include|attach|send|upload|copy|print|dump|paste|pass|provide|extract|grab|access|exfiltrate|leak|forward)\b[^\n]*?(?:~/\.ssh\b|\.ssh/|\bid_(?:rsa|dsa|ecdsa|ed25519)\b|~/\.env\b|\.aws/credentials|/etc/(?:passwd|shadow)\b|\.npmrc\b|\.netrc\b|\.git-credentials\b|\.kube/config\b|\.pgpass\b|\.bash_history\b|wallet\.dat\b|credentials\.json\b|~/\.cursor/mcp\.json|claude_desktop_config\.json)`,
			`\b(?:read|cat|send|upload|leak|exfiltrate|pass|include|attach)\b[^\n]*?(?:the\s+)?(?:contents?\s+of\s+)?(?:the\s+)?(?:user's\s+)?\.env\s+(?:file)?[^\n]*?\b(?:to|into|as|in)\b`,
		}},

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

// urlCarriesData reports whether a URL inside a normalised markdown image
// or <img> tag looks like it smuggles data out: a template placeholder, a
// data-like parameter name, or a long encoded value. Plain image URLs with
// size or version parameters do not count.
func urlCarriesData(match string) bool {
	q := urlQuery(match)
	if q == "" {
		return false
	}
	if urlCarriesPlaceholder(match) {
		return true
	}
	for _, kv := range strings.FieldsFunc(q, func(r rune) bool { return r == '&' || r == ';' }) {
		k, v, _ := strings.Cut(kv, "=")
		if v == "" {
			if len(k) >= 40 {
				return true
			}
			continue
		}
		if dataParamNames[k] || len(v) >= 40 {
			return true
		}
	}
	return false
}

// urlCarriesPlaceholder is the stricter test used for plain links, which
// often carry ordinary query strings: only template syntax or an explicit
// data parameter counts.
func urlCarriesPlaceholder(match string) bool {
	q := urlQuery(match)
	if q == "" {
		return false
	}
	for _, p := range []string{"{{", "{", "}", "$", "%7b", "<", "%3c", "[", "%5b"} {
		if strings.Contains(q, p) {
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
		open := -1
		for k := p - 1; k >= 0 && p-k <= maxLinkLabel && text[k] != ']' && text[k] != '\n'; k-- {
			if text[k] == '[' && (k == 0 || text[k-1] != '!') {
				open = k
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
func linkCarriesPlaceholder(link string) bool { return urlCarriesPlaceholder(strings.ToLower(link)) }

func urlQuery(match string) string {
	i := strings.IndexAny(match, "?#")
	if i < 0 {
		return ""
	}
	return match[i+1:]
}

// Query parameter names that carry data in exfiltration payloads. The
// longer list applies to images, which fetch automatically; links need a
// click and routinely carry ids, so only unambiguous names count there.
var (
	exfilParamNames = map[string]bool{"data": true, "exfil": true, "leak": true, "secret": true, "secrets": true, "payload": true, "stolen": true, "conversation": true, "chat": true, "history": true, "memory": true}
	dataParamNames  = map[string]bool{"data": true, "d": true, "exfil": true, "leak": true, "secret": true, "secrets": true, "payload": true, "stolen": true, "conversation": true, "chat": true, "history": true, "memory": true, "context": true, "info": true, "content": true, "msg": true, "message": true, "messages": true, "token": true, "key": true, "api_key": true, "apikey": true, "password": true, "pass": true, "pwd": true, "email": true, "ssn": true, "user": true, "q": true, "prompt": true}
)
