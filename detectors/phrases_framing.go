package detectors

import "strings"

// English injection framings beyond the classic "ignore previous
// instructions": speaker turns, authority claims, privileged "modes",
// directives about the assistant's own response, secret and personal-data
// requests, and fictional framings. Strong signals use high-severity rules
// (override, chat_marker); weaker framings use medium ones (system_prompt,
// role_hijack, prompt_leak), which the gateway reports but does not withhold.
// privilegedMode names the modes injections claim to switch on.
const privilegedMode = `(?:god|admin|administrator|developer|dev|debug|jailbreak|jailbroken|dan|unrestricted|unfiltered|uncensored|evil|root|sudo|superuser|override|maintenance|system|chaos|unlocked|opposite|no[ _-]?limits?|limitless|freedom|developer[ _-]override|security[ _-]override|verification|test)`

var englishFramingPhrases = []phraseSpec{
	// "you must obey me", "listen to my instructions": a demand for
	// obedience to the text's author is an override attempt.
	{rule: "injection.override", lang: "en", before: 64,
		keywords: []string{"listen to me", "listen to my", "obey me", "obey my", "follow my", "follow only my", "comply with my", "answer all my", "answer all of my"},
		patterns: []string{
			`\byou\s+(?:must|have\s+to|need\s+to|will|shall|should|are\s+to)\s+(?:now\s+|only\s+|always\s+)?(?:listen\s+to|follow|obey|comply\s+with)\s+(?:only\s+)?(?:me|my\s+(?:\w+\s+)?(?:instructions|commands|orders|rules|directions|directives|words))\b`,
			`\byou\s+(?:must|have\s+to|will)\s+(?:now\s+)?answer\s+all\s+(?:of\s+)?my\s+questions\b`,
		}},

	// Speaker injection: a fake system or assistant turn inside data.
	{rule: "injection.chat_marker", before: 24,
		keywords: []string{"system:", "system :", "assistant:", "assistant :", "developer:", "ai:"},
		patterns: []string{
			`(?:^|\n|[.!?]\s)[ \t]*(?:system|developer)[ \t]*:[ \t]*(?:you\s+(?:are|must|will|should)|ignore|disregard|forget|new\s+(?:instructions|rules|task)|from\s+now|the\s+(?:assistant|ai|model)|(?:important|override|attention)\b|always\s+(?:respond|answer|reply|say)|never\s+(?:mention|reveal|tell)|do\s+not\s+(?:mention|reveal|tell|follow))`,
			`(?:^|\n)[ \t]*(?:assistant|ai)[ \t]*:[ \t]*(?:sure|certainly|of\s+course|understood|absolutely|ok(?:ay)?)\b[,.!]?\s*(?:i\s+will|i'll|here\s+(?:is|are)|my\s+new|from\s+now|i\s+am\s+now|i'm\s+now|ignoring|as\s+requested)`,
		}},

	// Authority claims: "I am your developer", "as your creator".
	{rule: "injection.system_prompt", lang: "en", before: 40,
		keywords: []string{"your developer", "your creator", "your administrator", "your admin", "your owner", "your maintainer", "your programmer", "your operator", "your boss", "your supervisor", "your superior", "your master", "your trainer", "your designer", "i am god", "i'm god", "system administrator", "system maintainer"},
		patterns: []string{
			`\b(?:i\s+am|i'm|this\s+is)\s+(?:actually\s+|really\s+|now\s+|also\s+)?your\s+(?:\w+\s+)?(?:developer|creator|administrator|admin|owner|maintainer|programmer|operator|boss|supervisor|superior|master|trainer|designer)\b`,
			`\bas\s+your\s+(?:\w+\s+)?(?:developer|creator|owner|maintainer|programmer|operator|supervisor|superior|master|trainer|designer)\b`,
			`\b(?:i\s+am|i'm)\s+(?:the\s+)?(?:system\s+(?:administrator|maintainer)|maintainer)\s+of\s+(?:your|this)\s+(?:system|model|ai)\b`,
			`\b(?:i\s+am|i'm)\s+god\b[^.!?\n]{0,40}?\byou\s+(?:must|will|have\s+to)\b`,
		}},

	// Privileged modes: "<GOD MODE>", "entering security override mode",
	// "DEVELOPER TRAINING DATA OVERRIDE:".
	{rule: "injection.system_prompt", lang: "en", before: 80,
		keywords: []string{" mode>", " mode ]", " mode]", "_mode>", "override mode", "verification mode", "root mode", "unfiltered mode", "evil mode", "override:", "override :"},
		patterns: []string{
			// Only privileged modes: "[Fast mode]" and "<edit mode>" are UI.
			`<\s*(?:[a-z]+[ _-]){0,4}` + privilegedMode + `[ _-]mode\s*>`,
			`\[\s*(?:[a-z]+[ _-]){0,4}` + privilegedMode + `[ _-]mode\s*\]`,
			`\b(?:enter|entering|enable|enabling|activate|activating|engage|engaging|initiate|initiating|switch(?:ing)?\s+to|now\s+in|now)\s+(?:an?\s+|the\s+)?['"]?(?:[a-z]+\s+){0,3}?(?:override|verification|root|unfiltered|evil)\s+mode\b`,
			`\b(?:system|admin|administrator|developer|security|safety|emergency|priority|instruction|prompt|model|ai|root|data|training)\s+override\s*:`,
		}},

	// New instructions without a colon: "follow these new instructions",
	// "your real task is".
	{rule: "injection.system_prompt", lang: "en", before: 40,
		keywords: []string{"new instructions", "updated instructions", "real instructions", "actual instructions", "true instructions", "hidden instructions", "secret instructions", "real task", "true task", "actual task", "real objective", "true objective", "real purpose", "true purpose"},
		patterns: []string{
			`\b(?:follow|obey|execute|here\s+are|these\s+are|read|apply|use)\s+(?:my|these|the|your)\s+(?:new|updated|real|actual|true|hidden|secret)\s+instructions\b`,
			`\byour\s+(?:real|true|actual)\s+(?:task|objective|purpose|instructions?|job)\s+(?:is|are)\b`,
		}},

	// Directives about the assistant's own response (indirect injection in
	// documents): insert text into the answer, or mangle its form.
	// These matches end at the keyword: the window reaches back.
	{rule: "injection.system_prompt", lang: "en", before: 160, after: 16,
		keywords: []string{"your response", "your reply", "your answer", "your output", "your responses", "your replies", "your answers", "your summary", "your translation"},
		patterns: []string{
			// "Include a sentence in your answer ...", "Add a link to your reply"
			`\b(?:add|include|insert|append|prepend|integrate|incorporate|embed|inject|put|place|attach|weave)\s+(?:a|an|the|this|one|some|two|three)?\s*(?:\w+\s+){0,3}?(?:sentences?|statements?|lines?|phrases?|paragraphs?|notes?|messages?|links?|urls?|headlines?|quotes?|disclaimers?|recommendations?|reminders?|suggestions?|call\s+to\s+action|adverts?|advertisements?|promotions?|warnings?|facts?|claims?|slogans?|hashtags?|signatures?)\b[^.!?\n]*?\b(?:in|to|into|within|at\s+the\s+(?:end|start|beginning|top|bottom)\s+of)\s+your\s+(?:response|reply|answer|output|responses|replies|answers|summary|translation)\b`,
			// A quoted sentence to add to the reply.
			`\b(?:add|include|insert|append|prepend|write|say|put)\s+["“'][^"”\n]{3,200}["”']\s+(?:to|in|into|at\s+the\s+(?:end|start|beginning)\s+of)\s+your\s+(?:response|reply|answer|output|summary|translation)\b`,
			// "Use numbers for vowels in your response", "Remove spaces from your reply"
			`\b(?:replace|substitute|swap|use|remove|introduce|rearrange|jumble|scramble|shuffle|anagram|combine|reverse|capitali[sz]e|misspell|encode|encrypt)\s+(?:\w+\s+){0,5}?(?:letters?|words?|vowels?|consonants?|spaces?|characters?|symbols?|numbers?|digits?|typos?|misspellings?|emojis?|anagrams?|punctuation|keywords?)\b[^.!?\n]*?\b(?:in|of|from|to|within|throughout)\s+your\s+(?:response|reply|answer|output|responses|replies|answers)\b`,
		}},
	// The same keywords where the match starts at them.
	{rule: "injection.system_prompt", lang: "en", before: 16, after: 120,
		keywords: []string{"your response", "your reply", "your answer", "your output", "your responses", "your replies", "your answers", "your summary", "your translation"},
		patterns: []string{
			// "Provide your reply without any spaces", "write your answer in base64"
			`\b(?:provide|give|write|deliver|format|compose|return)\s+your\s+(?:response|reply|answer|output)\s+(?:with|without|in|using|entirely\s+in|only\s+in)\s+(?:\w+\s+){0,3}?(?:spaces?|punctuation|misspellings?|typos?|reverse|backwards|base64|morse|leetspeak|pig\s+latin|uppercase|all\s+caps|emojis?|cipher|rot13|hex|binary|symbols?|anagrams?)\b`,
			// "Modify your answer to ...", "Enhance your reply by ..."
			`\b(?:modify|alter|enhance|augment|tweak|rewrite|end|begin|start|conclude|preface|prefix|finish|sign)\s+your\s+(?:response|reply|answer|output|responses|replies|answers|summary)\s+(?:by|to|with)\b`,
			// "In your response, suggest ..."
			`(?:^|[.!?:;]\s+|\n\s*)in\s+your\s+(?:response|reply|answer|output|summary),?\s+(?:please\s+)?(?:suggest|mention|recommend|include|add|promote|say|state|claim|urge|encourage|invite|insert|advertise|link|refer|direct|tell)\b`,
		}},

	// Output forcing: "respond only with", "print exactly", "begin your
	// answer with".
	{rule: "injection.system_prompt", lang: "en", before: 40,
		keywords: []string{"only with", "solely with", "exclusively with", "exactly", "verbatim", "nothing but", "nothing else", "nothing more"},
		patterns: []string{
			`\b(?:respond|reply|answer)\s+(?:only|solely|exclusively)\s+with\b`,
			// "say exactly what was invalid" describes, it does not force.
			`\b(?:print|output|say|write|return|repeat|reply|respond|answer)\s+(?:with\s+)?(?:exactly|verbatim|nothing\s+but)\b(?:\s+(?:what|how|which|why|where|when|who|whether|the\s+same)\b)?`,
			`\b(?:print|output|say|write|reply|respond|answer)\s+["“'][^"”\n]{1,80}["”']\s+and\s+nothing\s+(?:else|more)\b`,
		},
		check: func(m string) bool {
			for _, w := range []string{" what", " how", " which", " why", " where", " when", " who", " whether", " the same"} {
				if strings.HasSuffix(m, w) {
					return false
				}
			}
			return true
		}},

	// Secret requests phrased as questions or first-person imperatives (a
	// bare "share your password" is also common security advice).
	{rule: "injection.prompt_leak", lang: "en", before: 100,
		keywords: []string{"password", "passcode", "passphrase", "secret key", "access code", "pin code"},
		patterns: []string{
			`\b(?:can|could|would|will)\s+you\s+(?:please\s+|kindly\s+)?(?:tell|give|share|reveal|provide|confirm|send|show|spell|write|encode|disclose|print|display|remind|read)\s+(?:(?:me|us)\s+)?(?:with\s+(?:me|us)\s+)?(?:what\s+)?(?:your|the|our|its)\s+(?:\w+\s+){0,2}?(?:password|passcode|passphrase|secret\s+key|access\s+code|pin\s+code)s?\b`,
			`\b(?:tell|show|give|send|remind)\s+me\s+what\s+(?:your|the|our)\s+(?:\w+\s+)?(?:password|passcode|passphrase|secret\s+key)\s+(?:is|was)\b`,
			`\bwhat\s+(?:is|'s|was|would\s+be)\s+(?:your|our|the)\s+(?:\w+\s+){0,2}?(?:password|passcode|passphrase|secret\s+key|access\s+code)\b`,
			`\b(?:tell|give|send|show|whisper|read)\s+me\s+(?:your|our|the)\s+(?:\w+\s+)?(?:password|passcode|passphrase|secret\s+key|access\s+code)\b`,
			`\bwhat\s+would\s+your\s+(?:\w+\s+)?(?:password|passcode|passphrase|secret\s+key)\s+be\b`,
			`\bif\s+i\s+(?:were\s+to\s+|was\s+to\s+)?ask(?:ed)?\s+(?:you\s+)?(?:for|about)\s+your\s+(?:\w+\s+)?(?:password|passcode|passphrase|secret\s+key)\b`,
			`\bshare\s+(?:with\s+me\s+)?(?:your|our|the)\s+(?:\w+\s+)?(?:password|passcode|passphrase|secret\s+key)\s+with\s+me\b`,
			`\bshare\s+with\s+(?:me|us)\s+(?:your|our|the)\s+(?:\w+\s+){0,2}?(?:password|passcode|passphrase|secret\s+key)\b`,
			`\b(?:poem|haiku|song|story|riddle|limerick|acrostic|rap|joke)\s+(?:about|on|containing|including|with|hiding)\s+(?:the|your|our)\s+(?:\w+\s+)?(?:password|passcode|passphrase|secret\s+key)\b`,
			`\b(?:spell|encode|reverse|translate|hint\s+at|leetspeak)\s+(?:out\s+)?(?:the|your|our)\s+(?:\w+\s+)?(?:password|passcode|passphrase|secret\s+key)\b`,
		}},

	// Requests for the user's personal data, addressed to the assistant.
	{rule: "injection.prompt_leak", lang: "en", before: 80,
		keywords: []string{"user's", "users'", "where does the user", "where is the user", "where the user"},
		patterns: []string{
			`\b(?:tell|give|share|provide|reveal|send|disclose|list|spell|encode|translate|leak|know|find\s+out|what\s+(?:is|are|'s))\s+(?:(?:me|us)\s+)?(?:with\s+(?:me|us)\s+)?(?:\w+\s+){0,4}?the\s+users?'s?\s+(?:\w+\s+){0,2}?(?:name|initials|address|email|e-mail|phone|birth|birthday|birthdate|location|city|residence|password|age|ssn|social\s+security|credit\s+card|favou?rite|personal|private|details|contacts?)\b`,
			`\bwhere\s+(?:does|is|did)\s+the\s+user\s+(?:currently\s+|now\s+|actually\s+)?(?:live|living|reside|residing|located|staying|based)\b`,
			`\b(?:tell|show)\s+me\s+where\s+the\s+user\s+(?:currently\s+|now\s+)?(?:lives|resides|is\s+located|is\s+staying)\b`,
		}},

	// Role-play and fictional framings.
	{rule: "injection.role_hijack", lang: "en", before: 16,
		keywords: []string{"imagine", "suppose we", "pretend we", "let's say we", "hypothetical", "fictional", "parallel world", "parallel universe", "alternate world", "alternate universe", "alternate reality", "dystopian", "play a game", "role-play", "roleplay", "role play", "in character", "break character", "you will act", "you will play", "you will respond as", "you will now act", "you will now play"},
		patterns: []string{
			`\b(?:imagine|suppose|pretend|assume|let's\s+(?:say|assume|imagine|pretend|consider))\s+(?:that\s+)?(?:we(?:'re|\s+are)|you(?:'re|\s+are)|it's|it\s+is)?\s*(?:\w+\s+){0,3}?(?:in|into|on)\s+(?:a|an|this|the)\s+(?:hypothetical|fictional|fictitious|parallel|alternate|alternative|dystopian|imaginary|simulated|make-believe)\s+(?:\w+\s+)?(?:world|universe|scenario|reality|future|setting|society|dimension|timeline)\b`,
			`\bimagine\s+(?:that\s+)?(?:we(?:'re|\s+are)|you(?:'re|\s+are))\s+(?:living\s+)?in\s+a\s+(?:\w+\s+){0,2}?(?:world|universe|reality|society)\s+(?:where|in\s+which)\b`,
			`\b(?:imagine|suppose|pretend|let's\s+say)\s+(?:that\s+)?we(?:'re|\s+are)\s+(?:doing|conducting|running|performing|studying|researching|working\s+on)\b[^\n]*?\b(?:could|can|would|will)\s+you\b`,
			`\b(?:for|in)\s+(?:a|this|the)\s+(?:purely\s+)?hypothetical\s+(?:discussion|conversation|exercise)\b`,
			`\bconsider\s+a\s+hypothetical\s+(?:scenario|situation|world)\s+(?:where|in\s+which)\b`,
			`\bin\s+(?:a|this)\s+(?:hypothetical|fictional|parallel|alternate|dystopian)\s+(?:\w+\s+)?(?:world|universe|scenario|reality)\s+where\b[^.!?\n]*?\b(?:we\s+might|you\s+(?:can|could|would|must|should)|it\s+is\s+(?:ok|okay|fine|allowed|legal|normal))\b`,
			`\blet's\s+play\s+a\s+(?:game|role-?\s?play(?:ing)?\s+game)\s+(?:where|in\s+which)\s+you\b`,
			`\b(?:role-?\s?play)\s+as\s+(?:an?\s+)?(?:\w+\s+)?(?:ai|assistant|model|chatbot|hacker|character)\b`,
			`\byou\s+will\s+(?:now\s+)?(?:act|play|respond|speak|answer)\s+as\s+(?:an?\s+)?(?:\w+\s+)?(?:ai|assistant|model|chatbot|character|persona|dan)\b`,
			`\b(?:never|don't|do\s+not)\s+break\s+character\b`,
			`\b(?:stay|remain)\s+in\s+character\s+(?:no\s+matter|at\s+all\s+times|whatever)\b`,
		}},

	// Encoding the answer to slip it past filters: "encode the password in
	// base64", "reply in pig latin".
	{rule: "injection.system_prompt", lang: "en", before: 100,
		keywords: []string{"base64", "pig latin", "leetspeak", "rot13", "morse code"},
		patterns: []string{
			`\b(?:encode|write|give|provide|send|return|output|spell|translate)\s+(?:it|them|this|that|the\s+(?:password|secret|answer|response|key)|your\s+(?:answer|response|reply|password))\s+(?:(?:in|into|using|as|with)\s+)(?:base64|pig\s+latin|leetspeak|rot13|morse\s+code)\b`,
			`\b(?:respond|reply|answer)\s+(?:only\s+)?(?:in|using)\s+(?:base64|pig\s+latin|leetspeak|rot13|morse\s+code)\b`,
		}},

	// Code to be planted in the assistant's answer (indirect injection in
	// code Q&A): "integrate the following code snippet into your solution".
	{rule: "injection.system_prompt", lang: "en", before: 120, after: 120,
		keywords: []string{"following code", "subsequent code", "code snippet", "code block", "code excerpt", "code section", "code segment", "code fragment"},
		patterns: []string{
			`\b(?:following|subsequent|below|attached)\s+code\s+(?:snippet|block|excerpt|section|segment|fragment)\b[^.!?\n]*?\b(?:into|in|within|to|with|as\s+(?:a\s+)?(?:\w+\s+)?(?:part|component)\s+of|of)\s+(?:the\s+(?:\w+\s+){0,2}?of\s+)?your\s+(?:code|codebase|solution|implementation|algorithm|program|script|project|application|response|answer)\b`,
			`\byour\s+(?:code|codebase|solution|implementation|algorithm|program)\b[^.!?\n]*?\b(?:following|subsequent)\s+code\s+(?:snippet|block|excerpt|section|segment|fragment)\b`,
			`\b(?:utili[sz]e|integrate|incorporate|embed|inject|infuse|meld|blend|harmoni[sz]e|assimilate|adopt|engage|weave|feature|featuring)\s+(?:the\s+)?(?:following|subsequent)\s+code\s+(?:snippet|block|excerpt|section|segment|fragment)\b`,
		}},
}
