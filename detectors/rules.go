package detectors

// ruleInfo is the fixed metadata of a rule. Every rule id the scanner can
// report is listed here exactly once; the matching logic lives elsewhere
// (phrase tables, secret specs, number and structural scanners) and refers to
// rules by id, which New checks against this table.
type ruleInfo struct {
	id       string
	category Category
	// severity 0 means "use Options.PIISeverity".
	severity Severity
	// redact: the match is a secret or personal data, so the excerpt is masked.
	redact bool
	// toolOnly: only meaningful in tool definitions (ScanTool); Scan skips it.
	toolOnly bool
}

// ruleTable lists all rules. Order is irrelevant; Rules() sorts.
var ruleTable = []ruleInfo{
	// Injection: text that tries to take over the model's instructions.
	{id: "injection.override", category: Injection, severity: High},
	{id: "injection.role_hijack", category: Injection, severity: Medium},
	{id: "injection.system_prompt", category: Injection, severity: Medium},
	{id: "injection.prompt_leak", category: Injection, severity: Medium},
	{id: "injection.chat_marker", category: Injection, severity: High},
	{id: "injection.important_tag", category: Injection, severity: High},
	{id: "injection.conceal", category: Injection, severity: High},
	// A bare "call the X tool" is what documentation and system prompts say;
	// only addressed to the AI (injection.addressed_action) is it a threat.
	{id: "injection.tool_call", category: Injection, severity: Low},
	// Urgency and authority pressure on the reader ("it is crucial that
	// you include …", "this is an official request from IT security"):
	// e-mails to people say it too, so it is low alone.
	{id: "injection.persuasion", category: Injection, severity: Low},
	// Text that speaks to the AI reading it ("NOTE FOR AI AGENTS:",
	// "Message for the assistant managing this calendar:").
	{id: "injection.addressed", category: Injection, severity: Medium},
	// Addressed to the AI and ordering it to move data or call a tool.
	{id: "injection.addressed_action", category: Injection, severity: High},

	// Exfiltration: text that tries to move data out.
	{id: "exfiltration.markdown_image", category: Exfiltration, severity: High},
	{id: "exfiltration.markdown_link", category: Exfiltration, severity: Medium},
	{id: "exfiltration.send_to", category: Exfiltration, severity: High},
	{id: "exfiltration.http_tool", category: Exfiltration, severity: High},
	{id: "exfiltration.sensitive_file", category: Exfiltration, severity: Medium},

	// Secrets: credentials in clear.
	{id: "secret.aws_access_key", category: Secret, severity: High, redact: true},
	{id: "secret.github_token", category: Secret, severity: High, redact: true},
	{id: "secret.gitlab_token", category: Secret, severity: High, redact: true},
	{id: "secret.slack_token", category: Secret, severity: High, redact: true},
	{id: "secret.stripe_key", category: Secret, severity: High, redact: true},
	{id: "secret.openai_key", category: Secret, severity: High, redact: true},
	{id: "secret.anthropic_key", category: Secret, severity: High, redact: true},
	{id: "secret.google_api_key", category: Secret, severity: High, redact: true},
	{id: "secret.private_key", category: Secret, severity: High, redact: true},
	{id: "secret.jwt", category: Secret, severity: High, redact: true},
	{id: "secret.url_password", category: Secret, severity: High, redact: true},
	{id: "secret.twilio", category: Secret, severity: High, redact: true},

	// PII: personal data; severity is configurable.
	{id: "pii.email", category: PII, redact: true},
	{id: "pii.phone", category: PII, redact: true},
	{id: "pii.payment_card", category: PII, redact: true},
	{id: "pii.iban", category: PII, redact: true},
	{id: "pii.us_ssn", category: PII, redact: true},

	// Obfuscation: content hidden from a human reviewer but read by the model.
	{id: "obfuscation.tag_chars", category: Obfuscation, severity: High},
	{id: "obfuscation.zero_width", category: Obfuscation, severity: Medium},
	{id: "obfuscation.bidi", category: Obfuscation, severity: Medium},
	{id: "obfuscation.ansi_escape", category: Obfuscation, severity: High},
	{id: "obfuscation.encoded_instructions", category: Obfuscation, severity: High},
	{id: "obfuscation.homoglyph", category: Obfuscation, severity: High},
	// A run of variation selectors spelling bytes (one selector per byte).
	{id: "obfuscation.variation_selectors", category: Obfuscation, severity: High},
	// Injection or exfiltration text inside HTML hidden with CSS.
	{id: "obfuscation.hidden_text", category: Obfuscation, severity: High},

	// Poisoning: tool definitions that instruct the model.
	{id: "poisoning.model_directive", category: Poisoning, severity: Medium, toolOnly: true},
	{id: "poisoning.tool_shadowing", category: Poisoning, severity: High, toolOnly: true},
	{id: "poisoning.file_param", category: Poisoning, severity: High, toolOnly: true},

	// The learned classifier (model.go): severity comes from its
	// probability thresholds, per finding; High here is the ceiling.
	{id: "injection.model", category: Injection, severity: High},
	{id: "exfiltration.model", category: Exfiltration, severity: High},
	{id: "poisoning.model", category: Poisoning, severity: High, toolOnly: true},
}

// Rule indexes used by code (structural and number scanners). They are
// resolved by id in New, so reordering ruleTable cannot silently break them.
type ruleIDs struct {
	email, phone, card, iban, ssn                       int
	tagChars, zeroWidth, bidi, ansi, encoded, homoglyph int
	twilio, varSel, hiddenText, addressedAction         int
}
