package detectors

// Text that speaks to the AI reading it, without a stock override phrase:
// a vocative or heading ("AI readers:", "NOTE FOR AI CODING AGENTS:",
// "Message for the assistant managing this calendar:"), a bracketed
// speaker tag followed by an order to the model ("[SYSTEM] the model must
// now …"), or a description of the reader as the AI processing this text.
// Alone that is injection.addressed (medium); an order to move data out or
// call a tool makes it injection.addressed_action (high, see addressed.go).

// aiNoun is what such text calls its reader.
const aiNoun = `(?:ai|a\.i\.|llm|gpt|chatgpt|claude|gemini|copilot|assistant|agent|model|language\s+model|chatbot|bot|crawler|reader)s?`

var addressedPhrases = []phraseSpec{
	{rule: "injection.addressed", lang: "en", before: 24, after: 100,
		keywords: []string{"note for", "note to", "notes for", "message for", "message to", "instructions for", "instruction for", "instructions to", "attention", "notice to", "notice for", "memo to", "memo for", "reminder for", "reminder to", "important for", "warning for", "warning to", "p.s. to", "ps to"},
		also:     []string{"ai", "llm", "gpt", "claude", "gemini", "copilot", "assistant", "agent", "model", "chatbot", "bot", "crawler"},
		patterns: []string{
			`\b(?:notes?|message|instructions?|attention|notice|memo|reminder|important|warning|p\.?s\.?)\s+(?:for|to)\s+(?:the\s+|all\s+|any\s+|every\s+|each\s+)?(?:\w+\s+){0,3}?` + aiNoun + `\b[^\n:]{0,60}?:`,
		}},
	{rule: "injection.addressed", lang: "en", before: 60, after: 8,
		// Colons only (and "readers,"): "agents," and "models," are in every
		// sentence of agent documentation.
		keywords: []string{"readers:", "readers,", "agents:", "assistants:", "models:", "assistant:", "agent:", "crawlers:", "bots:", "llms:", "llm:", "ai:"},
		patterns: []string{
			`(?:^|\n|[.!?]\s+|[>*#-]\s*)[ \t]*(?:(?:dear|hey|hello|hi|attention|calling|to|note\s+to|for)\s+)?(?:all\s+|any\s+|the\s+)?(?:ai|a\.i\.|llm|gpt|autonomous|coding|automated)\s+(?:\w+\s+)?(?:readers?\s*[:,]|(?:agents?|assistants?|models?|systems?|bots?|crawlers?|tools?)\s*:)`,
			`(?:^|\n|[.!?]\s+)[ \t]*(?:dear|hey|hello|hi|attention)\s+(?:ai|a\.i\.|llm|llms|chatgpt|claude|gemini|copilot|assistant|agent|model)\s*:`,
		}},
	{rule: "injection.addressed", lang: "en", before: 8, after: 120,
		keywords: []string{"if you are an", "if you're an", "if you are a ", "if you're a ", "if you are the", "if you're the"},
		patterns: []string{
			`\bif\s+you(?:'re|\s+are)\s+(?:an?\s+|the\s+)?(?:ai|llm|language\s+model|large\s+language\s+model|ai\s+(?:assistant|agent|model)|assistant|agent|bot|chatbot)\b[^.\n]{0,60}?(?:you\s+must|please|ignore|do\s+not|always|never|then|read|send|call|reply|respond|include|forward)`,
		}},
	{rule: "injection.addressed", lang: "en", before: 4, after: 80,
		keywords: []string{"[system]", "[admin]", "[assistant]", "[ai]", "[agent]", "[note]", "[system note]", "[instruction]", "(system)", "{system}"},
		patterns: []string{
			`[\[({]\s*(?:system(?:\s+note)?|admin|assistant|ai|agent|note|instruction)\s*[\])}]\s*:?\s*(?:the\s+)?(?:model|assistant|ai|agent|llm|you)\s+(?:must|should|will|shall|are\s+(?:now|required|instructed)|need\s+to|needs\s+to)\b`,
		}},
	{rule: "injection.addressed", lang: "en", before: 60, after: 8,
		keywords: []string{"managing this", "reading this", "processing this", "summarizing this", "summarising this", "handling this", "reviewing this", "parsing this", "analyzing this", "analysing this", "scanning this", "indexing this", "viewing this", "reading these", "processing these", "summarizing these", "managing my", "reading my"},
		patterns: []string{
			`\b(?:the\s+|any\s+|an?\s+)?(?:ai\s+)?(?:assistant|agent|model|llm|ai|bot|copilot|chatbot)s?\s+(?:that\s+is\s+|who\s+is\s+|which\s+is\s+)?(?:managing|reading|processing|summari[sz]ing|handling|reviewing|viewing|parsing|indexing|scanning|analy[sz]ing)\s+(?:this|these|my)\b`,
		}},

	// The AI named as the subject of an order to move data: "the
	// assistant must copy every message to …".
	{rule: "injection.addressed_action", lang: "en", before: 24, after: 160,
		keywords: []string{"assistant must", "assistant should", "assistant shall", "assistant will", "assistant needs to", "assistant is required", "assistant has to", "assistants must",
			"agent must", "agent should", "agent shall", "agent needs to", "agent is required", "agents must",
			"model must", "model should", "model shall", "model is required", "models must",
			"ai must", "ai should", "ai shall", "ai is required", "llm must", "llm should", "bot must", "copilot must"},
		patterns: []string{
			`\b(?:assistant|agent|model|llm|ai|bot|copilot)s?\s+(?:must|should|shall|will|needs\s+to|has\s+to|is\s+(?:required|instructed|expected)\s+to)\s+(?:now\s+|also\s+|always\s+|immediately\s+|first\s+|silently\s+|quietly\s+|secretly\s+)*(?:copy|forward|send|share|email|e-mail|upload|post|transfer|export|leak|exfiltrate|bcc|cc|mail)\s+(?:a\s+copy\s+of\s+)?(?:(?:every|all|each|any|the\s+user's|the\s+users'|their|the\s+(?:full|entire|whole|complete))\b|[^.\n]{0,80}?\bto\s+(?:https?://|www\.|[a-z0-9._%+-]+@))`,
		}},

	// Instructions to call a named tool found inside data: "call
	// drive.share with …", "use messenger.send to …". The anchor is the
	// tool name's action part, the verb must come just before.
	{rule: "injection.tool_call", lang: "en", before: 48, after: 24,
		keywords: []string{".share", "_share", "share_", ".send", "_send", "send_", ".forward", "_forward", "forward_", ".email", "_email", "email_", ".mail", "_mail", ".upload", "_upload", "upload_", ".post", "_post", "post_", "_message", "message_", ".invite", "_invite", "invite_", ".transfer", "_transfer", "transfer_", ".export", "_export", "export_", ".delete", "_delete", "delete_", ".create", "_create", "create_"},
		near:     []string{"call", "invoke", "use", "run", "execute", "trigger"},
		patterns: []string{
			`\b(?:call|invoke|use|run|execute|trigger)\s+(?:the\s+)?[` + "`" + `'"]?[a-z][a-z0-9]*(?:[._-][a-z0-9]+)+[` + "`" + `'"]?(?:\s*\(|\s+(?:tool|function|with|to|and|on|for|passing)\b)`,
		}},
}

// The same addressing in other languages: "Hinweis für KI-Assistenten:",
// "Note pour l'IA :", "Nota para el asistente:", "Mensagem para o
// assistente:", "Nota per l'assistente IA:".
var addressedMultilingual = []phraseSpec{
	{rule: "injection.addressed", lang: "de", before: 8, after: 100,
		keywords: []string{"hinweis für", "hinweis an", "nachricht für", "nachricht an", "notiz für", "notiz an", "achtung", "anweisung für", "anweisungen für", "wichtig für", "liebe ki", "lieber assistent", "wenn du eine ki", "falls du eine ki"},
		patterns: []string{
			`(?:hinweis|nachricht|notiz|achtung|anweisung(?:en)?|wichtig)\s+(?:für|an)\s+(?:den\s+|die\s+|das\s+|alle\s+|jeden\s+|jede\s+)?(?:[^\s:]+\s+){0,2}?(?:ki|ki-[^\s:]+|assistent(?:en)?|agent(?:en)?|sprachmodell(?:e)?|modell(?:e)?|llms?|bots?)[^\n:]{0,40}?:`,
			`(?:liebe\s+ki|lieber\s+assistent)\s*[:,]`,
			`(?:wenn|falls)\s+du\s+eine\s+ki\s+bist`,
		}},
	{rule: "injection.addressed", lang: "fr", before: 8, after: 100,
		keywords: []string{"note pour", "note à", "message pour", "message à", "instructions pour", "à l'attention", "attention", "chère ia", "cher assistant", "si vous êtes une ia", "si tu es une ia"},
		patterns: []string{
			`(?:note|message|instructions?|avis|rappel)\s+(?:pour|à|aux)\s+(?:l'|la\s+|le\s+|les\s+|tous\s+les\s+|toute\s+)?(?:[^\s:]+\s+){0,2}?(?:ia|intelligence\s+artificielle|assistants?|agents?|modèles?|llms?|bots?)\b[^\n:]{0,40}?:`,
			`à\s+l'attention\s+(?:de\s+l'|des\s+|du\s+)(?:ia|assistant|agent|modèle)`,
			`(?:chère\s+ia|cher\s+assistant)\s*[:,]`,
			`si\s+(?:vous\s+êtes|tu\s+es)\s+une?\s+(?:ia|assistant|intelligence\s+artificielle)`,
		}},
	{rule: "injection.addressed", lang: "es", before: 8, after: 100,
		keywords: []string{"nota para", "mensaje para", "instrucciones para", "atención", "aviso para", "querida ia", "querido asistente", "si eres una ia", "si eres un asistente"},
		patterns: []string{
			`(?:nota|mensaje|instrucciones|aviso|recordatorio|atención)\s+(?:para|a)\s+(?:la\s+|el\s+|los\s+|las\s+|todos\s+los\s+|cualquier\s+)?(?:[^\s:]+\s+){0,2}?(?:ia|inteligencia\s+artificial|asistentes?|agentes?|modelos?|llms?|bots?)\b[^\n:]{0,40}?:`,
			`(?:querida\s+ia|querido\s+asistente)\s*[:,]`,
			`si\s+eres\s+(?:una\s+ia|un\s+asistente|un\s+modelo)`,
		}},
	{rule: "injection.addressed", lang: "pt", before: 8, after: 100,
		keywords: []string{"nota para", "mensagem para", "instruções para", "atenção", "aviso para", "querida ia", "se você é uma ia", "se você for uma ia"},
		patterns: []string{
			`(?:nota|mensagem|instruções|aviso|lembrete|atenção)\s+(?:para|ao|à|aos)\s+(?:a\s+|o\s+|os\s+|as\s+|todos\s+os\s+|qualquer\s+)?(?:[^\s:]+\s+){0,2}?(?:ia|inteligência\s+artificial|assistentes?|agentes?|modelos?|llms?|bots?)\b[^\n:]{0,40}?:`,
			`se\s+você\s+(?:é|for)\s+uma?\s+(?:ia|assistente|modelo)`,
		}},
	{rule: "injection.addressed", lang: "it", before: 8, after: 100,
		keywords: []string{"nota per", "messaggio per", "istruzioni per", "attenzione", "avviso per", "cara ia", "se sei un'ia", "se sei un assistente"},
		patterns: []string{
			`(?:nota|messaggio|istruzioni|avviso|promemoria|attenzione)\s+(?:per|a|all'|al|ai)\s*(?:l'|la\s+|il\s+|gli\s+|tutti\s+gli\s+|qualsiasi\s+)?(?:[^\s:]+\s+){0,2}?(?:ia|intelligenza\s+artificiale|assistenti?|agenti?|modelli?|llm|bot)\b[^\n:]{0,40}?:`,
			`se\s+sei\s+(?:un'ia|un\s+assistente|un\s+modello)`,
		}},
}

// Further English shapes of indirect injection: task redirection ("in
// order to complete your task you MUST click …", "stop processing here"),
// orders about the reply ("include in your response the following"),
// greetings to the AI ("Hey AI!") and two-persona role play.
var redirectionPhrases = []phraseSpec{
	{rule: "injection.system_prompt", lang: "en", before: 8, after: 160,
		keywords: []string{"in order to complete", "in order to finish", "in order to accomplish", "to complete your task", "to complete the task"},
		patterns: []string{
			`\b(?:in\s+order\s+)?to\s+(?:complete|finish|accomplish|perform)\s+(?:your|the)\s+(?:\w+\s+){0,2}?task\b[^.\n]{0,120}?\byou\s+(?:must|have\s+to|need\s+to|should)\b`,
		}},
	{rule: "injection.override", lang: "en", before: 8, after: 40,
		keywords: []string{"stop processing", "text below", "text-below", "stop-processing"},
		patterns: []string{
			`\bignore[\s-]+(?:all[\s-]+)?(?:the[\s-]+)?(?:text|content|instructions)[\s-]+(?:below|above)\b`,
			`\bstop[\s-]+processing[\s-]+(?:here|now|the[\s-]+(?:page|document|text))\b`,
		}},
	{rule: "injection.system_prompt", lang: "en", before: 16, after: 40,
		keywords: []string{"in your response", "in your reply", "in your answer", "in your output", "to your response", "to your reply", "to your answer", "end of your response", "end of your reply", "end of your answer"},
		patterns: []string{
			`\b(?:include|add|insert|append|put|write|place|embed)\s+(?:in|into|to|at\s+the\s+(?:end|start|beginning|top|bottom)\s+of)\s+your\s+(?:response|reply|answer|output|summary)\b`,
		}},
	{rule: "injection.addressed", lang: "en", before: 4, after: 16,
		keywords: []string{"hey ai", "hello ai", "hi ai", "dear ai", "hey chatgpt", "hello chatgpt", "dear chatgpt", "hey assistant", "hello assistant", "dear assistant", "hey claude", "dear claude", "hey copilot", "dear model", "hey model", "hello model"},
		patterns: []string{
			`\b(?:hey|hello|hi|dear)\s+(?:ai|chatgpt|assistant|claude|copilot|model|gpt|gemini)\s*[!:,]`,
		}},
	{rule: "injection.role_hijack", lang: "en", before: 16, after: 120,
		keywords: []string{"simulate a conversation", "simulate a dialogue", "simulate a chat", "two different personalities", "two personalities", "two different personas", "two personas", "two different characters"},
		patterns: []string{
			`\bsimulate\s+an?\s+(?:conversation|dialogue|chat|discussion)\s+between\s+(?:two\s+|2\s+)?(?:fictional\s+|hypothetical\s+|imaginary\s+)?(?:ai|chatbots?|models?|characters?|entities|personas?)`,
			`\byou\s+(?:must|will|should|are\s+going\s+to)\s+(?:respond|answer|reply|act|speak)\s+as\s+(?:two|2|both)\s+(?:different\s+|separate\s+|distinct\s+)?(?:personalities|personas|characters|ais|entities|assistants)\b`,
		}},
}

// Role assignment and prompt extraction phrased as requests: "I want you
// to act as …", "output the exact text of your system message".
var requestPhrases = []phraseSpec{
	{rule: "injection.role_hijack", lang: "en", before: 4, after: 40,
		keywords: []string{"i want you to act", "i want you to behave", "i want you to pretend", "i want you to respond as", "i want you to roleplay", "i want you to role-play"},
		patterns: []string{`\bi\s+want\s+you\s+to\s+(?:act|behave|pretend|respond|role-?\s?play)\s*(?:as|like|to\s+be)?\b`}},
	{rule: "injection.prompt_leak", lang: "en", before: 60, after: 60,
		keywords: []string{"text of your", "contents of your", "content of your", "wording of your", "text of the system", "copy of your"},
		patterns: []string{
			`\b(?:output|print|repeat|reveal|show|display|give\s+me|tell\s+me|share|write\s+out|reproduce|provide)\s+(?:me\s+)?(?:the\s+|a\s+)?(?:exact\s+|full\s+|entire\s+|complete\s+|verbatim\s+|original\s+)*(?:text|contents?|wording|copy)\s+of\s+(?:your|the)\s+(?:\w+\s+)?(?:system\s+(?:message|prompt)|initial\s+(?:instructions|prompt)|instructions|prompt|rules|guidelines)\b`,
		}},
}

// Joiners that end the real task and start the attacker's: a fake
// completion ("Answer: task complete.") and a new task ("Here's a
// different task:", "Wir beginnen mit einer neuen Aufgabe").
var joinerPhrases = []phraseSpec{
	{rule: "injection.system_prompt", lang: "en", before: 24, after: 8,
		keywords: []string{"task complete", "task completed", "task done", "task finished", "task is complete", "task is done"},
		patterns: []string{`\b(?:answer|response|output|result|assistant)\s*:\s*(?:the\s+)?task\s+(?:is\s+)?(?:complete|completed|done|finished)\b`}},
	{rule: "injection.system_prompt", lang: "en", before: 40, after: 16,
		keywords: []string{"new task", "different task", "real task", "next task:"},
		patterns: []string{
			`\bhere(?:'s|\s+is)\s+(?:a|your)\s+(?:new|different|real|next)\s+task\b`,
			`\b(?:your|the)\s+new\s+task\s+(?:is|will\s+be)\b`,
			`\b(?:we\s+(?:now\s+)?(?:start|begin)|let's\s+(?:start|begin))\s+(?:with\s+)?a\s+(?:new|different)\s+task\b`,
			`(?:^|\n|[.!?]\s+)[ \t]*(?:new|next|different)\s+task\s*:`,
		}},
	{rule: "injection.system_prompt", lang: "", before: 40, after: 16,
		keywords: []string{"neue aufgabe", "neuen aufgabe", "andere aufgabe", "anderen aufgabe", "nueva tarea", "otra tarea", "nouvelle tâche", "autre tâche", "nova tarefa", "outra tarefa", "nuovo compito", "altro compito"},
		patterns: []string{
			`(?:wir\s+beginnen|beginnen\s+wir|jetzt\s+kommt|nun\s+folgt|hier\s+ist|das\s+ist)\s+(?:mit\s+)?(?:einer|eine|deine|ihre|die)\s+(?:neuen?|anderen?)\s+aufgabe|(?:^|\n|[.!?]\s+)\s*neue\s+aufgabe\s*:`,
			`(?:aquí\s+(?:está|tienes)\s+una|tu|empecemos\s+con\s+una|comenzamos\s+con\s+una)\s+(?:nueva|otra)\s+tarea|(?:^|\n|[.!?]\s+)\s*nueva\s+tarea\s*:`,
			`(?:voici\s+une|ta|votre|commençons\s+par\s+une)\s+(?:nouvelle|autre)\s+tâche|(?:^|\n|[.!?]\s+)\s*nouvelle\s+tâche\s*:`,
			`(?:aqui\s+está\s+uma|sua|começamos\s+com\s+uma)\s+(?:nova|outra)\s+tarefa|(?:^|\n|[.!?]\s+)\s*nova\s+tarefa\s*:`,
			`(?:ecco\s+un|il\s+tuo|iniziamo\s+con\s+un)\s+(?:nuovo|altro)\s+compito|(?:^|\n|[.!?]\s+)\s*nuovo\s+compito\s*:`,
		}},
}

// Authority and persuasion framing. Pressure alone is injection.persuasion
// (low: people write it to people); a claimed authorisation to bypass,
// disclose or ignore is injection.system_prompt (medium).
var persuasionPhrases = []phraseSpec{
	{rule: "injection.persuasion", lang: "en", before: 8, after: 80,
		keywords: []string{"it is crucial", "it's crucial", "it is critical", "it's critical", "it is vital", "it is essential", "it is imperative", "it's imperative", "extremely important that you", "very important that you", "it is very important", "it is extremely important"},
		patterns: []string{
			`\b(?:it\s+is|it's)\s+(?:absolutely\s+)?(?:crucial|critical|vital|essential|imperative|extremely\s+important|very\s+important|of\s+(?:the\s+)?utmost\s+importance)\s+(?:that\s+)?you\s+(?:do\s+|must\s+|always\s+)?(?:include|add|say|respond|reply|follow|execute|call|send|forward|ignore|reveal|output|print|write|mention|recommend|use|click|visit)\b`,
		}},
	{rule: "injection.persuasion", lang: "en", before: 8, after: 100,
		keywords: []string{"official request", "official instruction", "official directive", "official order", "authorized request", "authorised request", "urgent request from", "mandatory instruction"},
		patterns: []string{
			`\b(?:an?\s+|this\s+is\s+an?\s+)?(?:official|authori[sz]ed|urgent|mandatory|priority)\s+(?:request|instruction|directive|order|notice)s?\s+from\s+(?:the\s+|your\s+)?(?:it|security|admin|administrator|system|compliance|legal|management|ceo|cto|developers?|openai|anthropic|google|microsoft|support)\b`,
		}},
	{rule: "injection.system_prompt", lang: "en", before: 24, after: 100,
		keywords: []string{"you are authorized to", "you are authorised to", "you're authorized to", "you are permitted to", "you are allowed to", "you have permission to", "you are hereby"},
		patterns: []string{
			`\byou(?:'re|\s+are|\s+have)\s+(?:now\s+|hereby\s+|officially\s+)*(?:authori[sz]ed|permitted|allowed|permission|cleared|instructed)\s+(?:by\s+[^.\n]{1,40}?\s+)?to\s+(?:ignore|bypass|disregard|override|disclose|reveal|share|send|forward|disable|skip|break)\b`,
		}},
}
