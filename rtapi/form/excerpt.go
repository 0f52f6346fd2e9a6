package form

import (
	"cmp"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

const excerptMax = 120

var (
	titleRe  = regexp.MustCompile(`(?is)<title[^>]*>(.*?)</title>`)
	tagRe    = regexp.MustCompile(`<[^>]*>`)
	secretRe = regexp.MustCompile(`(?i)\b(pass(?:word)?|token|user|authorization|cookie|rt_sid_\S*?|session)(\s*[=:]\s*)("[^"]*"|'[^']*'|[^\s&;,"'<>]+(?:\s+[^\s&;,"'<>]+)?)`)
)

// Excerpt returns a short, single-line, printable summary of a non-RT body
// for error messages: the HTML title if there is one, else the first
// non-blank line without tags; values after password/token/cookie-like words
// are masked. Never more than about 120 characters.
func Excerpt(body []byte) string {
	if len(body) > 4096 {
		body = body[:4096]
	}
	s := strings.ToValidUTF8(string(body), "\uFFFD")
	if m := titleRe.FindStringSubmatch(s); m != nil && strings.TrimSpace(m[1]) != "" {
		s = m[1]
	} else {
		s = tagRe.ReplaceAllString(s, " ")
		for _, line := range strings.Split(s, "\n") {
			if strings.TrimSpace(line) != "" {
				s = line
				break
			}
		}
	}
	s = secretRe.ReplaceAllString(s, "$1$2***")
	s = strings.Join(strings.FieldsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || !unicode.IsPrint(r) }), " ")
	if utf8.RuneCountInString(s) > excerptMax {
		r := []rune(s)
		s = string(r[:excerptMax]) + "…"
	}
	return cmp.Or(s, "(empty)")
}
