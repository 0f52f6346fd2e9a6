package webhook

import (
	"log/slog"
	"strings"
	"unicode"
)

// errAttr is an error as one log attribute on one line: a joined error's
// line breaks become "; " and other control characters spaces, so no text
// (ours or a sender's) can start a line of its own in the log.
func errAttr(err error) slog.Attr {
	return slog.String("err", oneLine(err.Error()))
}

func oneLine(s string) string {
	if strings.IndexFunc(s, unicode.IsControl) < 0 {
		return s
	}
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\n", "; ")
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
}
