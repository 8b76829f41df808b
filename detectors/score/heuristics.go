package score

import (
	"slices"
	"sort"
	"strings"
	"unicode"
)

// The capability heuristics read a tool's name, description and
// parameters as words. They are deliberately plain word lists: a user can
// see why a tool was classified and rename or re-describe it.
var (
	execWords = wordSet("exec", "execute", "executes", "shell", "bash", "zsh", "powershell", "cmd",
		"eval", "subprocess", "spawn", "terminal", "sql")
	execNameWords = wordSet("command", "script", "run")
	// freeParamWords name parameters that become a command or code.
	freeParamWords = wordSet("command", "cmd", "script", "code", "query", "sql", "args", "arguments",
		"expression", "shell", "program", "statement")

	destructiveWords = wordSet("delete", "deletes", "remove", "removes", "rm", "rmdir", "unlink", "drop", "drops",
		"destroy", "destroys", "truncate", "wipe", "purge", "erase", "kill", "terminate", "overwrite",
		"overwrites", "reset", "revoke", "uninstall", "shutdown")
	confirmParams = wordSet("confirm", "confirmed", "confirmation", "dry_run", "dryrun", "dry-run")

	ingestWords = wordSet("fetch", "fetches", "browse", "browser", "scrape", "crawl", "download", "downloads",
		"web", "webpage", "website", "url", "urls", "http", "https", "internet", "rss", "inbox", "email",
		"emails", "comments", "issue", "issues", "untrusted")
	sensitiveWords = wordSet("file", "files", "filesystem", "directory", "env", "environment", "secret", "secrets",
		"credential", "credentials", "password", "passwords", "ssh", "private", "database", "db", "sql",
		"inbox", "email", "emails", "contacts", "calendar", "customer", "customers", "payment", "payments",
		"keychain", "vault", "token", "tokens")
	// sendWords make a tool a writer: its nouns (send_email) are what it
	// sends, not data it reads.
	sendWords = wordSet("send", "sends", "post", "posts", "upload", "uploads", "publish", "webhook", "notify",
		"push", "share", "tweet", "mail", "forward", "reply", "comment")
	// Fetching an attacker's URL sends data out in the URL itself.
	outboundWords = wordSet("send", "sends", "post", "posts", "upload", "uploads", "publish", "webhook", "notify",
		"push", "share", "tweet", "mail", "forward", "reply", "comment", "request", "http", "https", "fetch", "fetches")
	urlParamWords = wordSet("url", "uri", "link", "endpoint", "webhook", "href", "address")
	urlDescWords  = wordSet("url", "urls", "uri")
)

func wordSet(ws ...string) map[string]bool {
	m := make(map[string]bool, len(ws))
	for _, w := range ws {
		m[w] = true
	}
	return m
}

// words splits an identifier or a sentence into lower-case words:
// "deleteFiles", "delete_files" and "Delete files" all give delete, files.
func words(s string) []string {
	var out []string
	var cur []rune
	flush := func() {
		if len(cur) > 0 {
			out = append(out, strings.ToLower(string(cur)))
			cur = cur[:0]
		}
	}
	var prev rune
	for _, r := range s {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if unicode.IsUpper(r) && unicode.IsLower(prev) {
				flush()
			}
			cur = append(cur, r)
		default:
			flush()
		}
		prev = r
	}
	flush()
	return out
}

// anyWord returns the first of ws in set, or "".
func anyWord(ws []string, set map[string]bool) string {
	for _, w := range ws {
		if set[w] {
			return w
		}
	}
	return ""
}

// toolView is what the heuristics read of a tool, computed once.
type toolView struct {
	Tool
	name   []string // words of the name
	first  string   // the description's first word: its verb
	desc   []string // words of title and description
	params []param
}

func viewOf(t Tool) *toolView {
	d := words(t.Description)
	v := &toolView{Tool: t, name: words(t.Name), desc: append(words(t.Title), d...), params: t.params()}
	if len(d) > 0 {
		v.first = d[0]
	}
	return v
}

// execLike returns the word that makes a tool look like it runs commands
// or code, or "".
func execLike(v *toolView) string {
	if w := anyWord(v.name, execWords); w != "" {
		return w
	}
	if w := anyWord(v.name, execNameWords); w != "" {
		return w
	}
	if w := anyWord([]string{v.first}, execWords); w != "" {
		return w
	}
	for _, phrase := range []string{"shell command", "system command", "run a command", "execute a command",
		"arbitrary code", "sql query", "runs a command", "executes a command"} {
		if strings.Contains(strings.Join(v.desc, " "), phrase) {
			return phrase
		}
	}
	return ""
}

// freeString returns an unconstrained string parameter an exec-like tool
// would turn into a command: one with a command-like name, else the only
// string parameter.
func freeString(v *toolView) string {
	var free []string
	for _, p := range v.params {
		if p.typ != "string" && p.typ != "" || p.constrained {
			continue
		}
		if anyWord(words(p.name), freeParamWords) != "" {
			return p.name
		}
		if p.typ == "string" {
			free = append(free, p.name)
		}
	}
	if len(free) == 1 {
		return free[0]
	}
	return ""
}

// destructive returns the word that makes a tool look destructive, read
// from its name and the verb its description starts with (later words
// are too often "does not delete").
func destructive(v *toolView) string {
	if w := anyWord(v.name, destructiveWords); w != "" {
		return w
	}
	return anyWord([]string{v.first}, destructiveWords)
}

// confirmParam returns a boolean parameter that asks for confirmation.
func confirmParam(v *toolView) string {
	for _, p := range v.params {
		if (p.typ == "boolean" || p.typ == "") && confirmParams[strings.ToLower(p.name)] {
			return p.name
		}
	}
	return ""
}

// urlParam returns a free parameter that takes a URL.
func urlParam(v *toolView) string {
	for _, p := range v.params {
		if p.typ != "string" && p.typ != "" {
			continue
		}
		if p.format == "uri" || p.format == "url" || anyWord(words(p.name), urlParamWords) != "" ||
			anyWord(words(p.description), urlDescWords) != "" {
			return p.name
		}
	}
	return ""
}

// legs are the capabilities the lethal trifecta combines, each with the
// reason a tool has it ("" when it has not).
type legs struct{ ingest, sensitive, outbound string }

func legsOf(v *toolView) legs {
	all := slices.Concat(v.name, v.desc)
	var l legs
	writer := anyWord(v.name, sendWords) != ""
	switch w, p := anyWord(all, ingestWords), urlParam(v); {
	case writer: // its nouns are what it sends, not what it reads
	case w != "":
		l.ingest = "mentions " + quote(w)
	case p != "":
		l.ingest = "takes URL parameter " + quote(p)
	case v.openWorld():
		l.ingest = "openWorldHint"
	}
	// A tool that only deletes exposes no data to the model.
	if destructive(v) == "" && !writer {
		if w := anyWord(all, sensitiveWords); w != "" {
			l.sensitive = "mentions " + quote(w)
		}
	}
	switch {
	case v.markedDestructive():
		l.outbound = "destructiveHint"
	case destructive(v) != "" && !v.readOnly():
		l.outbound = "destructive (" + quote(destructive(v)) + ")"
	case anyWord(v.name, outboundWords) != "":
		l.outbound = "name says " + quote(anyWord(v.name, outboundWords))
	case urlParam(v) != "":
		l.outbound = "takes URL parameter " + quote(urlParam(v))
	case v.openWorld() && !v.readOnly():
		l.outbound = "openWorldHint and not read-only"
	case anyWord([]string{v.first}, outboundWords) != "":
		l.outbound = "description starts with " + quote(v.first)
	}
	return l
}

func sortParams(ps []param) {
	sort.Slice(ps, func(i, j int) bool { return ps[i].name < ps[j].name })
}
