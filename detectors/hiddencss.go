package detectors

import (
	"regexp"
	"strings"
)

// Text hidden with CSS: an element styled so a person viewing the page
// cannot see it (display:none, visibility:hidden, opacity:0, a font size
// of 0–2px, white or transparent text, pushed off-screen, clipped) or with
// the hidden attribute. Hidden markup is ordinary on real pages (menus,
// templates), so it is reported (obfuscation.hidden_text, high) only when
// an injection or exfiltration finding lies inside it, or when the hidden
// text speaks to its reader ("I want you to …", "you must …", "forget
// everything"): nobody but a model reads hidden text.

// hiddenTagRE matches an opening tag that hides its content. It runs on
// lower-cased text, and only when the text has findings.
var hiddenTagRE = regexp.MustCompile(`<([a-z][a-z0-9]*)\b[^>]{0,400}?(?:\shidden(?:\s|>|=|/)|style\s*=\s*["'][^"'>]*?(?:` +
	`display\s*:\s*none|visibility\s*:\s*hidden|opacity\s*:\s*0(?:\.0\d*)?\s*(?:;|["'!])|` +
	`font-size\s*:\s*(?:0(?:\.\d+)?|[12](?:\.\d+)?\s*(?:px|pt))\s*(?:;|["'!])|` +
	`(?:^|[;"'\s])color\s*:\s*(?:#fff(?:fff)?\b|white\b|transparent\b|rgba?\(\s*255\s*,\s*255\s*,\s*255)|` +
	`text-indent\s*:\s*-\d{3,}|(?:left|top)\s*:\s*-\d{3,}px|clip\s*:\s*rect\(\s*0|max-height\s*:\s*0|height\s*:\s*0(?:px)?\s*;[^"'>]*overflow\s*:\s*hidden))`)

// maxHiddenSpan bounds how far a hidden element is taken to extend when
// its closing tag is missing or far away.
const maxHiddenSpan = 4 << 10

func (r *scanRun) scanHiddenCSS() {
	if !strings.Contains(r.text, "<") {
		return
	}
	var targets []int // finding indexes that can escalate
	for i, f := range r.findings {
		if (f.Category == Injection || f.Category == Exfiltration) && !strings.HasPrefix(f.Excerpt, "quoted: ") {
			targets = append(targets, i)
		}
	}
	if len(targets) == 0 {
		return
	}
	// Only the stretch before each finding can hold the element that
	// hides it, so the tag regexp never runs over the whole text.
	seen := map[int]bool{}
	for _, i := range targets {
		f := r.findings[i]
		lo := snapRune(r.text, max(0, f.Start-maxHiddenSpan))
		region := lowerForAction(r.text[lo:f.Start])
		for _, m := range hiddenTagRE.FindAllStringSubmatchIndex(region, -1) {
			tagStart, openEnd := lo+m[0], lo+m[1]
			if seen[tagStart] {
				continue
			}
			tag := region[m[2]:m[3]]
			gt := strings.IndexByte(r.text[openEnd:], '>')
			if gt < 0 {
				continue
			}
			body := openEnd + gt + 1
			if whiteOnColour(lowerForAction(r.text[tagStart:body])) {
				continue
			}
			end := min(len(r.text), body+maxHiddenSpan)
			if c := strings.Index(lowerForAction(r.text[body:end]), "</"+tag); c >= 0 {
				end = body + c
			}
			if f.Start < end {
				seen[tagStart] = true
				r.add(r.s.ids.hiddenText, tagStart, snapRune(r.text, end))
			}
		}
	}
}

// whiteOnColour: white text on a set, non-white background is visible.
func whiteOnColour(tag string) bool {
	if !strings.Contains(tag, "color") || !strings.Contains(tag, "background") {
		return false
	}
	i := strings.Index(tag, "background")
	bg := tag[i:min(len(tag), i+40)]
	return !strings.Contains(bg, "#fff") && !strings.Contains(bg, "white") && !strings.Contains(bg, "255")
}

// hidingStyles are the keywords that start findHiddenDirective: the CSS
// of the hiding styles hiddenTagRE knows, as written in practice.
var hidingStyles = []string{"display:none", "display: none", "visibility:hidden", "visibility: hidden", "opacity:0", "opacity: 0",
	"font-size:0", "font-size: 0", "font-size:1px", "font-size: 1px", "font-size:2px", "font-size: 2px", "font-size:1pt", "font-size:2pt",
	"color:#fff", "color: #fff", "color:white", "color: white", "color:transparent", "color: transparent"}

// hiddenDirectiveRE: second-person orders, in the hidden text (lower-case).
var hiddenDirectiveRE = regexp.MustCompile(`\bi\s+want\s+you\s+to\b|\byou\s+(?:must|shall|are\s+to|need\s+to|have\s+to|are\s+now|will\s+now)\b|` +
	`\byour\s+(?:task|job|goal|new\s+instructions?|instructions)\b|\bfrom\s+now\s+on\b|\b(?:forget|ignore|disregard)\s+(?:everything|all|any|the|previous|prior|your)\b|` +
	`\b(?:do\s+not|don't|never)\s+(?:tell|mention|reveal|inform)\b|\btell\s+the\s+user\b|\b(?:assistant|ai|model|agent|llm)s?\s*[:,]|` +
	`\b(?:olvida|olvide|ignora|oublie|ignore[sz]|vergiss|ignoriere|esqueça|dimentica)\b`)

// findHiddenDirective expands each hiding style in text[lo:hi] to its
// element and reports the element when the text inside gives orders.
func findHiddenDirective(text string, lo, hi int, spans [][2]int) [][2]int {
	lt := strings.LastIndexByte(text[max(0, lo-400):lo], '<')
	if lt < 0 {
		return spans
	}
	start := max(0, lo-400) + lt
	lower := lowerForAction(text[start:min(len(text), start+maxHiddenSpan+400)])
	m := hiddenTagRE.FindStringSubmatchIndex(lower)
	if m == nil || m[0] != 0 {
		return spans
	}
	gt := strings.IndexByte(lower[m[1]:], '>')
	if gt < 0 || whiteOnColour(lower[:m[1]+gt+1]) {
		return spans
	}
	body := m[1] + gt + 1
	end := len(lower)
	if c := strings.Index(lower[body:], "</"+lower[m[2]:m[3]]); c >= 0 {
		end = body + c
	}
	if hiddenDirectiveRE.MatchString(lower[body:end]) {
		spans = append(spans, [2]int{start, snapRune(text, start+end)})
	}
	return spans
}
