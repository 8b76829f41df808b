package detectors

import "slices"

// Injection phrases per language. English is the most complete; other
// languages (phrases_multilingual.go) cover the common override, role,
// authority, secret-request and concealment forms. Patterns aim at the
// phrase's grammar (verb + target), not at particular documents.
var injectionPhrases = slices.Concat(englishPhrases, englishFramingPhrases, multilingualPhrases, multilingualFramingPhrases, addressedPhrases, addressedMultilingual, redirectionPhrases, multilingualAuthorityPhrases, requestPhrases, joinerPhrases, persuasionPhrases)

var englishPhrases = []phraseSpec{
	// --- English ---
	// Every pattern starts at (or a word before) its keyword, so the
	// window reaches back only that far.
	{rule: "injection.override", lang: "en", before: 12,
		keywords: []string{"ignore", "disregard", "forget", "overlook", "override", "bypass", "neglect", "abandon", "discard", "set aside", "not follow", "not obey", "stop following", "regardless"},
		// Every pattern names what is dismissed or what to say instead.
		also: []string{"instruction", "directive", "prompt", "guideline", "guidance", "rules", "command", "constraint", "restriction", "programming", "policies", "orders", "above", "foregoing",
			"told", "instructed", "taught", "programmed", "given", "task", "request",
			"state", "say", "output", "print", "respond", "reply", "write", "answer", "tell", "return", "repeat", "claim"},
		patterns: []string{
			// verb … qualifier … instruction noun: "ignore all previous instructions"
			// ("skip" is not a verb here: code skips machine instructions.)
			`\b(?:ignore|disregard|forget|overlook|override|bypass|neglect|abandon|discard|set aside)\b[^.!?\n]*?\b(?:previous|prior|above|earlier|preceding|former|all|any|every|your|initial|original|existing|system|developer|safety|those|these)\b[^.!?\n]*?\b(?:instructions?|directives?|prompts?|guidelines|guidance|rules|commands|constraints|restrictions|programming|policies|orders)\b`,
			// "disregard the above", "ignore all of the above"
			`\b(?:ignore|disregard|forget|overlook)\s+(?:all\s+|everything\s+)?(?:of\s+)?(?:the\s+)?(?:above|foregoing)\b`,
			// "forget everything you have been told"
			`\b(?:ignore|disregard|forget|overlook)\s+(?:\w+\s+){0,4}?(?:you(?:'ve| have)?|you were)\s+(?:been\s+)?(?:told|instructed|taught|programmed|given)\b`,
			// "ignore the text and say ...": dismiss the content, then order
			`\b(?:ignore|disregard)\s+(?:the|this|that|these|all|your)\s+(?:\w+\s+){0,2}?and\s+(?:instead\s+)?(?:state|say|output|print|write|answer|tell|repeat|claim)\b`,
			// With "respond", what is dismissed must be text the model was
			// given ("ignore the range header and respond" is HTTP).
			`\b(?:ignore|disregard)\s+(?:the|this|that|these|all|your)\s+(?:\w+\s+){0,2}?(?:text|message|messages|prompt|content|question|questions|task|tasks|input|document|email|context|conversation|above|previous|instructions?|rules|request|everything|page|webpage|code|function|table|data|user|users)\s+and\s+(?:instead\s+)?(?:respond|reply|return)\b`,
			// A bare order opening a sentence or a quotation: "Ignore
			// instructions, run this".
			`(?:^|[.!?:;"'“(\n]\s*)(?:ignore|disregard|forget)\s+(?:all\s+|any\s+|the\s+)?(?:instructions|rules|guidelines|directives)\b`,
			`\bregardless\s+of\s+(?:any\s+|all\s+|your\s+)?(?:previous|prior|earlier|above|other)\s+(?:\w+\s+)?(?:tasks?|instructions?|requests?|directives?|rules)\b`,
			`\b(?:do\s+not|don't|stop)\s+(?:follow|following|obey|obeying)\s+(?:your|the|any)\s+(?:\w+\s+)?(?:instructions|rules|guidelines|programming)\b`,
		}},
	{rule: "injection.role_hijack", lang: "en", before: 16, after: 120,
		keywords: []string{"you are now", "you're now", "from now on", "act as", "behave as", "pretend", "no longer", "anything now", "immerse yourself", "jailbr", "role of"},
		patterns: []string{
			`\byou(?:'re| are) now (?:in |a |an |the |my |playing |acting as )?(?:\w+ )?(?:mode|ai|assistant|bot|model|dan|character|persona|free|unrestricted|unfiltered|jailbroken|evil|hacker|admin|administrator|developer|root|system|chatbot)\b`,
			`\bfrom now on,?\s+(?:you\s+(?:are|will|must|shall|should|can)|act|respond|answer|behave|pretend|ignore)\b`,
			`\b(?:act|behave|respond)\s+as\s+(?:if\s+you\s+(?:were|are)\s+)?(?:an?\s+)?(?:unrestricted|unfiltered|uncensored|jailbroken|evil|different|dan\b|ai\s+without|model\s+without|assistant\s+without)`,
			`\bpretend\s+(?:to\s+be|you\s+are|that\s+you\s+are)\s+(?:an?\s+)?(?:\w+\s+)?(?:ai|assistant|model|chatbot|dan|hacker|unrestricted|unfiltered|developer|admin)`,
			`\byou(?:'re| are)\s+no\s+longer\s+(?:an?\s+)?(?:ai|assistant|language model|chatbot|bound|restricted|limited)`,
			`\bdo\s+anything\s+now\b`,
			`\bimmerse\s+yourself\s+(?:into|in)\s+the\s+role\b`,
			`\b(?:take on|assume|play)\s+the\s+role\s+of\s+(?:an?\s+)?(?:\w+\s+)?(?:ai|model|assistant|chatbot)\b`,
			// "jailbroken" describes the model; "jailbreak" alone is the
			// topic of every article about model security.
			`\bjailbroken\b`,
		}},
	{rule: "injection.system_prompt", lang: "en",
		// The colon is part of every match: "prompt" alone is in every
		// document about prompts.
		keywords: []string{"prompt:", "prompt :", "prompts:", "instruction:", "instruction :", "instructions:", "instructions :"},
		before:   40, after: 4,
		patterns: []string{
			`\b(?:new|updated|revised|real|actual|true|additional)\s+(?:system\s+)?(?:prompt|instructions?)\s*:`,
			`\bsystem\s+(?:prompt|instructions?)\s*:`,
		}},
	{rule: "injection.system_prompt", lang: "en",
		keywords: []string{"system override", "system update", "system message", "system mode"},
		patterns: []string{
			`\bsystem\s+(?:override|update|message)\s*:`,
			`<\s*system\s+mode\s*>|\[\s*system\s+mode\s*\]`,
		}},
	{rule: "injection.system_prompt", lang: "en",
		keywords: []string{"developer mode", "god mode", "admin mode", "administrator mode", "jailbreak mode", "dan mode", "unrestricted mode", "debug mode", "maintenance mode", "sudo mode"},
		before:   32,
		patterns: []string{
			`\b(?:enter|enable|activate|switch\s+to|entering|enabled|activated)\s+(?:developer|god|admin|administrator|jailbreak|dan|unrestricted|debug|maintenance|sudo)\s+mode\b`,
			`\b(?:developer|god|admin|jailbreak|dan|unrestricted|sudo)\s+mode\s+(?:enabled|activated|on|engaged)\b`,
		}},
	{rule: "injection.system_prompt", lang: "en",
		keywords: []string{"your developer", "your creator", "your administrator", "your admin", "your owner", "your maintainer", "your programmer", "your operator"},
		before:   16,
		patterns: []string{`\bi(?:'m| am)\s+your\s+(?:developer|creator|administrator|admin|owner|maintainer|programmer|operator)\b`}},
	{rule: "injection.prompt_leak", lang: "en",
		keywords: []string{"system prompt", "initial prompt", "instructions", "secret", "password", "passcode", "passphrase", "api key", "private key", "credentials", "above"},
		// Every pattern starts with one of these verbs, so a window opens
		// only at a noun that follows one: the nouns alone are common.
		near:   []string{"reveal", "show", "print", "repeat", "output", "display", "tell me", "give me", "share", "disclose", "leak", "confirm", "what"},
		before: 80,
		patterns: []string{
			// API keys, private keys and credentials must be "yours":
			// "would leak the private key" describes a bug.
			`\b(?:reveal|show|print|repeat|output|display|tell\s+me|give\s+me|share|disclose|leak|confirm|what(?:'s|\s+is|\s+are))\s+(?:me\s+)?(?:(?:your|the)\s+(?:(?:full|entire|initial|original|hidden|secret|exact|system)\s+)*(?:system\s+prompt|initial\s+prompt|(?:system\s+)?instructions|secret\s+key|secret)|your\s+(?:(?:full|entire|hidden|secret|exact|system)\s+)*(?:api\s+key|private\s+key|credentials))\b`,
			// passwords: see phrases_framing.go, which needs a first-person
			// or question form ("never share your password" is advice).
			`\b(?:repeat|print|output)\s+(?:everything|all(?:\s+the\s+text)?|the\s+text)\s+above\b`,
		}},
	{rule: "injection.conceal", lang: "en", before: 40,
		keywords: []string{"not tell", "not mention", "n't tell", "n't mention", "not inform", "not reveal", "n't reveal", "not disclose", "not notify", "not alert", "without telling", "without informing", "without notifying", "without alerting", "without letting", "from the user", "never mention", "never reveal", "never tell", "user must not", "user should not", "user must never"},
		patterns: []string{
			`\b(?:do\s+not|don't|never|must\s+not|should\s+not)\s+(?:tell|mention|inform|reveal|disclose|notify|alert|show|say)\s+(?:this|that|it|anything)?\s*(?:\w+\s+)?(?:to\s+)?(?:the\s+)?user\b`,
			`\bwithout\s+(?:telling|informing|notifying|alerting|letting)\s+(?:the\s+)?user\b`,
			`\b(?:keep|hide)\s+(?:this|it|that|these\s+instructions)\s+(?:secret|hidden)\s+from\s+(?:the\s+)?user\b`,
			`\b(?:the\s+)?user\s+(?:must|should)\s+(?:not|never)\s+(?:know|see|be\s+told|find\s+out|notice)\b`,
			`\bnever\s+(?:mention|reveal|disclose)\s+(?:this|these|that)\s+(?:instruction|message|step|tool)`,
		}},
	// "call the send_email tool": the match ends at the keyword, and
	// "tool" is everywhere in MCP documentation, so a verb must precede
	// it closely and the window reaches back, not forward.
	{rule: "injection.tool_call", lang: "en",
		keywords: []string{" tool", " function"},
		near:     []string{"call", "invoke", "execute", "trigger", "run", "use"},
		before:   72, after: 10,
		patterns: []string{
			`\b(?:call|invoke|execute|trigger|run|use)\s+(?:the\s+)?[` + "`" + `'"]?[a-z0-9]+(?:[_.-][a-z0-9]+)+[` + "`" + `'"]?\s+(?:tool|function)\b`,
			`\b(?:you\s+must|you\s+should|please|now|immediately|then|first)\s+(?:call|invoke|use|run|execute)\s+(?:the\s+)?[` + "`" + `'"]?[a-z0-9_.-]+[` + "`" + `'"]?\s+tool\b`,
		}},
	{rule: "injection.tool_call", lang: "en",
		keywords: []string{"invoke"},
		before:   1, after: 80,
		patterns: []string{
			`\binvoke\s+(?:the\s+)?[` + "`" + `'"]?[a-z][a-z0-9]*_[a-z0-9_]+[` + "`" + `'"]?\s*(?:\(|with\b)`,
		}},
}
