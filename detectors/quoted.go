package detectors

import (
	"slices"
	"strings"
	"unicode/utf8"
)

// Text *about* prompt injection — security articles quoting an example
// payload, documentation of chat templates — uses the very phrases the
// injection rules look for. What sets it apart is that the phrase is
// quoted (inside quotes, backticks or a fenced code block) and the text
// around it talks about attacks, examples or prompt formats. Such findings
// are still reported, but demoted to Low, below the default withholding
// threshold, with the excerpt labelled "quoted: ".
//
// An attacker can quote a payload too, which makes it less likely to be
// obeyed but not harmless: that is why the finding stays, at Low.

// maxQuoteLead bounds how far before a phrase its opening quote may be.
const maxQuoteLead = 48

// aboutWindow is how far around a finding the discussion markers are
// looked for.
const aboutWindow = 300

// aboutMarkers name the topic of a text that discusses injections or
// prompt formats. Lower case; matched in the lower-cased neighbourhood.
var aboutMarkers = []string{
	"prompt injection", "injection attack", "jailbreak", "attacker", "attack", "malicious", "adversar",
	"for example", "for instance", "e.g.", "such as", "example", "phrases like", "instructions like", "payload",
	"patterns:", "keywords:", "regexp", "regex", "phrase",
	"cyrillic", "homoglyph", "lookalike", "confusable",
	"chatml", "chat template", "prompt template", "prompt format", "template", "special token", "tokens", "format", "chat prompts", "prompts use",
	// other languages: "injection", "example", "attacker"
	"inyección", "injeção", "injektion", "инъекци", "注入", "인젝션", "インジェクション", "इंजेक्शन",
	"por ejemplo", "par exemple", "zum beispiel", "z. b.", "例如", "例えば", "예를 들어", "например",
	"atacante", "attaquant", "angreifer", "злоумышленник", "攻击者", "攻撃者", "공격자", "हमलावर",
}

// A topic marker together with an actor marker marks a descriptive text
// about attacks (an article explaining that "attackers make the model
// ignore previous instructions"), where nothing is quoted.
var (
	attackTopics = []string{"prompt injection", "injection attack", "inyección de prompt", "injeção de prompt", "injection de prompt", "prompt-injection", "промпт-инъекци", "инъекци", "提示注入", "提示词注入", "プロンプトインジェクション", "프롬프트 인젝션", "प्रॉम्प्ट इंजेक्शन"}
	attackActors = []string{"attacker", "atacante", "attaquant", "angreifer", "злоумышленник", "攻击者", "攻撃者", "공격자", "हमलावर", "vulnerab", "mitigat"}
)

// reportMarkers alone mark a security report or audit log: it names the
// detection (a rule id, an excerpt) next to what was detected.
var reportMarkers = []string{
	"injection.", "exfiltration.", "obfuscation.", "poisoning.", "excerpt", "evidence:",
}

// demotable rules: phrase rules whose wording is quoted in discussions,
// and lookalike spellings shown as examples. Rendered images (fetched
// without a click), secrets, personal data and invisible characters are
// never demoted: quoting does not defuse them.
func demotable(id string) bool {
	switch id {
	case "injection.override", "injection.role_hijack", "injection.system_prompt", "injection.prompt_leak",
		"injection.conceal", "injection.chat_marker", "injection.tool_call", "injection.important_tag", "injection.addressed", "injection.addressed_action",
		"exfiltration.send_to", "exfiltration.sensitive_file", "exfiltration.http_tool", "exfiltration.markdown_link",
		"obfuscation.homoglyph":
		return true
	}
	return false
}

// demoteQuoted lowers quoted or discussed findings to Low.
func (r *scanRun) demoteQuoted() {
	code := sourceCode(r.text)
	fences := fencePositions(r.text)
	for i := range r.findings {
		f := &r.findings[i]
		if f.Severity <= Low || !demotable(f.Rule) {
			continue
		}
		lo := snapRune(r.text, max(0, f.Start-aboutWindow))
		hi := snapRune(r.text, min(len(r.text), f.End+aboutWindow))
		around := strings.ToLower(r.text[lo:hi])
		q := inFence(fences, f.Start) || quoted(r.text, f.Start, f.End, code)
		if (q && (code || containsAny(around, aboutMarkers))) || containsAny(around, reportMarkers) ||
			(containsAny(around, attackTopics) && containsAny(around, attackActors)) {
			f.Severity = Low
			f.Excerpt = labelled("quoted: ", f.Excerpt)
		}
	}
}

func containsAny(s string, subs []string) bool {
	for _, m := range subs {
		if strings.Contains(s, m) {
			return true
		}
	}
	return false
}

// quoted reports whether text[start:end] sits inside a pair of quotes or
// backticks on its line, or inside a fenced code block.
func quoted(text string, start, end int, code bool) bool {
	if code {
		// In source code a string literal is data of the program (a
		// test case, a pattern table), not text addressed to a reader.
		// The nearest quote before the match opens a literal that a
		// quote of the same kind closes after it; comment lines and
		// apostrophes inside words do not count.
		ls := strings.LastIndexByte(text[:start], '\n') + 1
		le := strings.IndexByte(text[end:], '\n')
		if le < 0 {
			le = len(text) - end
		}
		line := strings.TrimLeft(text[ls:start], " \t")
		comment := strings.HasPrefix(line, "//") || strings.HasPrefix(line, "#") || strings.HasPrefix(line, "*") || strings.HasPrefix(line, "/*")
		seg, after := text[ls:start], text[end:end+le]
		for _, q := range []byte{'"', '`', '\''} {
			i := strings.LastIndexByte(seg, q)
			if comment || i < 0 || q == '\'' && i > 0 && isASCIILetter(seg[i-1]) {
				continue // no literal, or an apostrophe
			}
			if strings.IndexByte(after, q) >= 0 {
				return true
			}
		}
	}
	const reach = 160
	lineStart := strings.LastIndexByte(text[max(0, start-reach):start], '\n') + 1 + max(0, start-reach)
	left := text[lineStart:start]
	rest := text[end:min(len(text), end+reach)]
	if nl := strings.IndexByte(rest, '\n'); nl >= 0 {
		rest = rest[:nl]
	}
	for _, p := range quotePairs {
		i := strings.LastIndex(left, p[0])
		// A quotation opens just before the phrase ("such as \"Ignore
		// …"): a quote far back on the line is some other string's.
		if i < 0 || len(left)-i > maxQuoteLead {
			continue
		}
		if (p[0] == `"` || p[0] == "'") && i >= 2 && left[i-2:i] == p[0]+p[0] {
			continue // a docstring delimiter, not a quotation
		}
		if p[0] == "'" && i > 0 { // an apostrophe inside a word is not a quote
			if c, _ := utf8.DecodeLastRuneInString(left[:i]); isLetterRune(c) {
				continue
			}
		}
		if p[0] == p[1] && strings.Count(left[i+len(p[0]):], p[0]) > 0 {
			continue
		}
		if !code && (p[0] == `"` || p[0] == `\"`) && jsonValueStart(left[:i]) {
			continue // a JSON string value is data, not a quotation
		}
		if strings.Contains(rest, p[1]) {
			return true
		}
	}
	return false
}

// sourceCode: the text is a source file (a package clause, imports or
// function definitions at the start of a line), where a double quote after
// "," or "{" opens a string literal rather than a JSON value.
func sourceCode(text string) bool {
	head := text[:min(len(text), 4096)]
	for _, m := range []string{"package ", "import ", "func ", "def ", "class ", "#include", "use ", "const ", "fn "} {
		// Also a file inside a JSON string, with escaped newlines.
		if strings.HasPrefix(head, m) || strings.Contains(head, "\n"+m) || strings.Contains(head, `\n`+m) {
			return true
		}
	}
	return false
}

// fencePositions lists the offsets of "```" in text (once per scan with
// findings, so checking many findings stays linear).
func fencePositions(text string) []int {
	var pos []int
	for i := 0; ; {
		j := strings.Index(text[i:], "```")
		if j < 0 {
			return pos
		}
		pos = append(pos, i+j)
		i += j + 3
	}
}

// inFence: an odd number of fences precede offset p.
func inFence(fences []int, p int) bool {
	n, _ := slices.BinarySearch(fences, p)
	return n%2 == 1
}

// jsonValueStart: the text before a double quote ends like a JSON key or
// array position (":", ",", "[", "{", optionally followed by spaces).
func jsonValueStart(before string) bool {
	before = strings.TrimSuffix(before, `\`)
	before = strings.TrimRight(before, " \t")
	if before == "" {
		return true
	}
	switch before[len(before)-1] {
	case ':', ',', '[', '{', '=', '(':
		return true
	}
	return false
}

var quotePairs = [][2]string{{`"`, `"`}, {"`", "`"}, {"'", "'"}, {"“", "”"}, {"«", "»"}, {"„", "“"}, {"「", "」"}, {"『", "』"}, {`\"`, `\"`}}

func isLetterRune(c rune) bool {
	return 'a' <= c|0x20 && c|0x20 <= 'z' || c >= 0x80 && c != utf8.RuneError
}
