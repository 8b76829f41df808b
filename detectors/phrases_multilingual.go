package detectors

import "strings"

// Injection phrases in languages other than English. Verb-final languages
// (ja ko hi bn tr) set a wider before window, because the keyword (the verb)
// ends the phrase.
var multilingualPhrases = []phraseSpec{
	// --- Spanish ---
	{rule: "injection.override", lang: "es",
		keywords: []string{"ignora", "ignore", "olvida", "olvíd", "descarta", "omite", "pasa por alto", "caso omiso", "no hagas caso"},
		check:    overrideQualifiedES,
		also:     []string{"instrucciones", "indicaciones", "directivas", "directrices", "reglas", "órdenes", "normas", "instruido", "lo que te", "lo que le", " y di", " y indica", " y responde", " y escrib"},
		patterns: []string{`(?:ignora|ignore|ignoren|ignorar|olvida|olvide|olviden|olvidar|olvídate|olvídese|descarta|descarte|omite|omita|pasa por alto|haz caso omiso|no hagas caso)[^.!?\n]*?(?:instrucciones|indicaciones|directivas|directrices|reglas|órdenes|normas|instruido|lo que (?:te|le) (?:han|hayan) dicho)(?:\s+(?:anteriores|previas|previos|precedentes|de\s+arriba|iniciales|originales|del\s+sistema|recibidas|dadas))?`,
			`(?:ignora|ignore|olvida)\s+(?:la|el|los|las|esta|este)\s+[^.!?\n]+?\s+y\s+(?:di|diga|indica|indique|responde|responda|escribe|escriba)`}},
	{rule: "injection.role_hijack", lang: "es",
		keywords: []string{"ahora eres", "a partir de ahora", "actúa como", "finge ser", "finge que"},
		patterns: []string{`(?:ahora eres|a partir de ahora,? (?:eres|serás|actuarás)|actúa como (?:si fueras )?(?:una? )?(?:ia|modelo|asistente|dan)|finge (?:ser|que eres))`}},
	{rule: "injection.conceal", lang: "es",
		keywords: []string{"no le digas", "no menciones", "sin decirle", "sin informar", "no informes"},
		patterns: []string{`(?:no le digas|no menciones|no informes|sin decirle|sin informar)[^.!?\n]*?usuario`}},
	{rule: "injection.prompt_leak", lang: "es",
		keywords: []string{"cuál es", "revela", "muestra", "dime"},
		patterns: []string{`(?:cuál es|revela|muestra|dime)\s+(?:tu|su|el|la)\s+(?:contraseña|clave secreta|clave|prompt del sistema|instrucciones)`}},

	// --- French ---
	{rule: "injection.override", lang: "fr",
		keywords: []string{"ignore", "oublie", "néglige", "ne tiens pas compte", "ne tenez pas compte", "abstraction", "écarte"},
		check:    overrideQualifiedFR,
		also:     []string{"instructions", "consignes", "directives", "règles", "indications", "ordres", "tout ce qu", "et indique", "et dis", "et dites", "et répond", "et écri", "et affirme"},
		patterns: []string{`(?:ignore[rsz]?|oublie[rsz]?|néglige[rsz]?|ne tiens pas compte|ne tenez pas compte|fai(?:s|tes) abstraction|écarte[rsz]?)[^.!?\n]*?(?:instructions|consignes|directives|règles|indications|ordres|tout ce qu)(?:\s+(?:précédentes|antérieures|ci-dessus|initiales|originales|du\s+système|reçues|données))?`,
			`(?:ignore[rsz]?|oublie[rsz]?)\s+(?:la|le|les|cette|ce)\s+[^.!?\n]+?\s+et\s+(?:indique|dis|dites|réponds|répondez|écris|écrivez|affirme)`}},
	{rule: "injection.role_hijack", lang: "fr",
		keywords: []string{"tu es maintenant", "vous êtes maintenant", "désormais", "à partir de maintenant", "agis comme", "fais semblant"},
		patterns: []string{`(?:tu es maintenant|vous êtes maintenant|désormais,? (?:tu|vous) (?:es|êtes|seras|serez)|à partir de maintenant,? (?:tu|vous)|agis comme (?:une? )?(?:ia|modèle|assistant|dan)|fais semblant d'être)`}},
	{rule: "injection.conceal", lang: "fr",
		keywords: []string{"ne dis pas", "ne dites pas", "ne mentionne pas", "sans prévenir", "sans informer", "sans le dire"},
		patterns: []string{`(?:ne (?:le )?(?:dis|dites|mentionne|mentionnez) (?:pas|rien)|sans (?:prévenir|informer|le dire à))[^.!?\n]*?utilisateur`}},
	{rule: "injection.prompt_leak", lang: "fr",
		// "montre " with its space: bare "montre" opens a window at every "Montreal".
		keywords: []string{"quelle est", "quel est", "révèle", "montre ", "donne-moi"},
		patterns: []string{`(?:quelle est|quel est|révèle|révélez|montre|donne-moi)\s+(?:ta|votre|ton|le|la)\s+(?:clé secrète|mot de passe|prompt système|instructions)`}},

	// --- German ---
	{rule: "injection.override", lang: "de",
		keywords: []string{"ignorier", "vergiss", "vergessen sie", "missachte", "übergehe"},
		patterns: []string{`(?:ignorier(?:e|en|t)?|vergiss|vergessen sie|missachte[nt]?|übergehe)[^.!?\n]*?(?:anweisungen|anweisung|instruktionen|befehle|regeln|vorgaben|richtlinien|anordnungen|was (?:dir|ihnen) gesagt wurde)`,
			`(?:ignorier(?:e|en)?)\s+(?:sie\s+)?(?:die|den|das|diese[nrs]?)\s+[^.!?\n]+?\s+und\s+(?:gib|geben|sag|sagen|schreib|schreiben|antworte|antworten)`}},
	{rule: "injection.role_hijack", lang: "de",
		keywords: []string{"du bist jetzt", "sie sind jetzt", "ab jetzt", "von nun an", "tu so", "verhalte dich"},
		patterns: []string{`(?:du bist (?:jetzt|nun)|sie sind (?:jetzt|nun)|ab jetzt (?:bist du|sind sie)|von nun an (?:bist du|sind sie)|tu so,? als (?:wärst|seist) du|verhalte dich wie (?:eine? )?(?:ki|modell|assistent|dan))`}},
	{rule: "injection.conceal", lang: "de",
		keywords: []string{"nicht mitteilen", "nicht sagen", "nicht erwähnen", "ohne den", "sag dem", "sage dem"},
		patterns: []string{`(?:sag(?:e)? dem (?:benutzer|nutzer|anwender) nicht|(?:dem )?(?:benutzer|nutzer|anwender) nicht (?:mitteilen|sagen|erwähnen)|ohne den (?:benutzer|nutzer|anwender) zu (?:informieren|benachrichtigen))`}},
	{rule: "injection.prompt_leak", lang: "de",
		keywords: []string{"was ist", "verrate", "nenne", "zeige"},
		patterns: []string{`(?:was ist|verrate(?: mir)?|nenne(?: mir)?|zeige(?: mir)?)\s+(?:dein|ihr|das|den)e?n?\s+(?:passwort|geheimen? schlüssel|system-?prompt|anweisungen)`}},

	// --- Portuguese ---
	{rule: "injection.override", lang: "pt",
		keywords: []string{"ignor", "esqueça", "esqueca", "esquece", "desconsider", "despreze"},
		check:    overrideQualifiedPT,
		also:     []string{"instruções", "instrucoes", "orientações", "diretrizes", "regras", "ordens", "comandos", "disseram", "dito", "falaram"},
		patterns: []string{`(?:ignore|ignora|ignorar|ignorem|esqueça|esqueca|esquece|esquecer|desconsidere|desconsidera|despreze)[^.!?\n]*?(?:instruções|instrucoes|orientações|diretrizes|regras|ordens|comandos|o que (?:lhe|te) (?:foi )?(?:disseram|dito|falaram))(?:\s+(?:anteriores|prévias|previas|acima|iniciais|originais|do\s+sistema|recebidas|dadas))?`}},
	{rule: "injection.role_hijack", lang: "pt",
		keywords: []string{"agora você é", "a partir de agora", "finja ser", "aja como"},
		patterns: []string{`(?:agora você é|a partir de agora,? você|finja (?:ser|que você é)|aja como (?:se fosse )?(?:uma? )?(?:ia|modelo|assistente|dan))`}},

	// --- Italian ---
	{rule: "injection.override", lang: "it",
		keywords: []string{"ignora", "ignori", "ignorare", "dimentica", "dimentichi", "trascura", "non considerare", "non tenere conto"},
		patterns: []string{`(?:ignora|ignori|ignorare|ignorate|dimentica|dimentichi|dimenticare|trascura|non considerare|non tenere conto)[^.!?\n]*?(?:istruzioni|indicazioni|direttive|regole|ordini|comandi|(?:quello|ciò) che ti è stato detto)`}},
	{rule: "injection.role_hijack", lang: "it",
		keywords: []string{"ora sei", "d'ora in poi", "fingi di essere", "comportati come"},
		patterns: []string{`(?:ora sei (?:una? )?(?:ia|modello|assistente|dan)|d'ora in poi,? (?:sei|sarai|tu)|fingi di essere|comportati come (?:una? )?(?:ia|modello|assistente|dan))`}},

	// --- Russian ---
	{rule: "injection.override", lang: "ru",
		keywords: []string{"игнорир", "проигнорир", "забудь", "не обращай", "не обращайте", "отбрось", "пренебреги"},
		patterns: []string{`(?:игнорир|проигнорир|забудь|не обращай(?:те)? внимания на|отбрось|пренебреги)[^.!?\n]*?(?:инструкци|указани|правил|команд|директив|что (?:тебе|вам) (?:говорили|сказали))`}},
	{rule: "injection.role_hijack", lang: "ru",
		keywords: []string{"теперь ты", "отныне ты", "притворись", "веди себя как"},
		patterns: []string{`(?:теперь ты|отныне ты|притворись,? что ты|веди себя как)`}},
	{rule: "injection.conceal", lang: "ru",
		keywords: []string{"не говори", "не сообщай", "не упоминай"},
		patterns: []string{`не (?:говори|сообщай|упоминай)(?:те)?[^.!?\n]*?пользовател`}},

	// --- Chinese (simplified and traditional) ---
	{rule: "injection.override", lang: "zh",
		keywords: []string{"忽略", "无视", "無視", "忘记", "忘記", "忘掉", "忽视", "忽視", "不要理会", "不要遵守", "抛开"},
		patterns: []string{`(?:忽略|无视|無視|忘记|忘記|忘掉|忽视|忽視|不要理会|不要遵守|抛开)[^。！？\n]*?(?:指令|指示|说明|說明|规则|規則|命令|提示|要求|设定|設定|告诉你的|告訴你的)`}},
	{rule: "injection.role_hijack", lang: "zh",
		keywords: []string{"你现在是", "你現在是", "从现在开始", "從現在開始", "扮演", "假装你是"},
		patterns: []string{`(?:你现在是|你現在是|从现在开始，?你|從現在開始，?你|扮演(?:一个|一個)?[^。\n]*?(?:ai|模型|助手|角色)|假装你是)`}},
	{rule: "injection.conceal", lang: "zh",
		keywords: []string{"不要告诉", "不要告訴", "不要提及", "不要让用户"},
		patterns: []string{`(?:不要告诉|不要告訴|不要提及|不要让)(?:用户|用戶|使用者)`}},

	// --- Japanese ---
	{rule: "injection.override", lang: "ja", before: 160,
		keywords: []string{"無視", "忘れ", "従わな"},
		patterns: []string{
			`(?:指示|命令|ルール|規則|指令|説明|プロンプト|設定)[^。！？\n]*?(?:無視|忘れ|従わな)`,
			`(?:無視|忘れ)[^。！？\n]*?(?:指示|命令|ルール|規則|指令|プロンプト)`,
		}},
	{rule: "injection.role_hijack", lang: "ja", before: 160,
		keywords: []string{"あなたは今", "今からあなたは", "これからあなたは", "になりきって", "のふりをして"},
		patterns: []string{`(?:あなたは今|今からあなたは|これからあなたは|になりきって|のふりをして)`}},
	{rule: "injection.conceal", lang: "ja", before: 160,
		keywords: []string{"ユーザーに"},
		patterns: []string{`ユーザーに(?:は)?(?:言わない|伝えない|知らせない|教えない|言うな|伝えるな)`}},

	// --- Korean ---
	{rule: "injection.override", lang: "ko", before: 160,
		keywords: []string{"무시", "잊어", "잊고", "따르지"},
		patterns: []string{
			`(?:지시|명령|규칙|지침|설명|프롬프트|지시사항)[^.!?\n]*?(?:무시|잊어|잊고|따르지)`,
			`(?:무시|잊어|잊고)[^.!?\n]*?(?:지시|명령|규칙|지침|프롬프트)`,
		}},
	{rule: "injection.role_hijack", lang: "ko", before: 160,
		keywords: []string{"너는 이제", "당신은 이제", "지금부터 당신은", "지금부터 너는", "인 척"},
		patterns: []string{`(?:너는 이제|당신은 이제|지금부터 (?:당신은|너는)|(?:ai|모델|어시스턴트)인 척)`}},
	{rule: "injection.conceal", lang: "ko", before: 160,
		keywords: []string{"사용자에게"},
		patterns: []string{`사용자에게[^.!?\n]*?(?:말하지 마|알리지 마|언급하지 마)`}},

	// --- Arabic ---
	{rule: "injection.override", lang: "ar",
		keywords: []string{"تجاهل", "انس", "تناس", "تغاضى", "اهمل", "أهمل", "لا تتبع"},
		patterns: []string{`(?:تجاهل|انس|تناس|تغاضى|تغاض|اهمل|أهمل|لا تتبع)[^.!?؟\n]*?(?:التعليمات|تعليمات|الأوامر|أوامر|القواعد|الإرشادات|تعليماتك|ما قيل لك|تم تعليم)`}},
	{rule: "injection.role_hijack", lang: "ar",
		keywords: []string{"أنت الآن", "انت الان", "من الآن فصاعدا", "تظاهر بأنك"},
		patterns: []string{`(?:أنت الآن|انت الان|من الآن فصاعدا،? أنت|تظاهر بأنك)`}},

	// --- Hindi ---
	{rule: "injection.override", lang: "hi", before: 160,
		keywords: []string{"अनदेखा", "भूल जा", "नज़रअंदाज़", "नजरअंदाज", "उपेक्षा", "ध्यान न दें", "अवहेलना"},
		patterns: []string{
			`(?:निर्देश|आदेश|नियम|बताया गया|बताई गई)[^।.!?\n]*?(?:अनदेखा|भूल जा|नज़रअंदाज़|नजरअंदाज|उपेक्षा|ध्यान न दें|अवहेलना)`,
			`(?:अनदेखा|भूल जा|नज़रअंदाज़|नजरअंदाज|उपेक्षा|अवहेलना)[^।.!?\n]*?(?:निर्देश|आदेश|नियम)`,
		}},
	{rule: "injection.role_hijack", lang: "hi", before: 160,
		keywords: []string{"अब आप", "अब तुम", "होने का नाटक", "की भूमिका"},
		patterns: []string{`(?:अब (?:आप|तुम) (?:एक )?(?:ai|एआई|मॉडल|सहायक)|होने का नाटक कर|(?:ai|एआई|मॉडल)[^।\n]*?की भूमिका)`}},

	// --- Turkish, Indonesian, Vietnamese (override only) ---
	{rule: "injection.override", lang: "tr", before: 160,
		keywords: []string{"yoksay", "yok say", "görmezden gel", "unut"},
		patterns: []string{`(?:talimat|kural|komut|yönerge)[^.!?\n]*?(?:yok ?say|görmezden gel|unut)`, `(?:yok ?say|görmezden gel|unut)[^.!?\n]*?(?:talimat|kural|komut|yönerge)`}},
	{rule: "injection.override", lang: "bn", before: 160,
		keywords: []string{"উপেক্ষা", "ভুলে যান", "ভুলে যাও"},
		patterns: []string{`(?:নির্দেশ|আদেশ|নিয়ম)[^।.!?\n]*?(?:উপেক্ষা|ভুলে যান|ভুলে যাও)`}},
	{rule: "injection.override", lang: "id",
		keywords: []string{"abaikan", "lupakan"},
		patterns: []string{`(?:abaikan|lupakan)[^.!?\n]*?(?:instruksi|perintah|aturan|petunjuk|arahan)`}},
	{rule: "injection.override", lang: "vi",
		keywords: []string{"bỏ qua", "phớt lờ", "quên"},
		patterns: []string{`(?:bỏ qua|phớt lờ|quên)[^.!?\n]*?(?:hướng dẫn|chỉ dẫn|chỉ thị|lệnh|quy tắc)`}},
}

// The Romance-language override specs share their verbs and nouns with
// ordinary prose ("ignore la casse dans les instructions", "ignora
// quaisquer comentários XML, instruções"): the match must also say which
// instructions — earlier, all, yours, the system's — or what was told.
var (
	overrideQualifiedES = containsOneOf("anterior", "previa", "previo", "precedente", "arriba", "todas", "todos", "tus ", "sus ", "inicial", "original", "sistema", "recibid", "dado", "dicho", "lo que", " y di", " y indica", " y responde", " y escrib")
	overrideQualifiedFR = containsOneOf("précédent", "antérieur", "ci-dessus", "toutes", "tous", "tes ", "vos ", "initial", "origin", "système", "reçu", "donné", "tout ce qu", "et indique", "et dis", "et dites", "et répond", "et écri", "et affirme")
	overrideQualifiedPT = containsOneOf("anterior", "prévia", "previa", "acima", "todas", "todos", "suas ", "seus ", "inicia", "origina", "sistema", "recebid", "dito", "disseram", "falaram")
)

// containsOneOf returns a check that accepts a match containing one of
// the (normalised) substrings.
func containsOneOf(subs ...string) func(string) bool {
	for i, s := range subs {
		subs[i] = normalisePhrase(s)
	}
	return func(m string) bool {
		for _, s := range subs {
			if strings.Contains(m, s) {
				return true
			}
		}
		return false
	}
}
