package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"unicode"
)

// safeHandler keeps every log record on one line whatever it carries
// (mail subjects, sender text, errors quoting a server): control
// characters in the message, attribute keys, string values, errors and
// Stringers are replaced, a line break by "; " and any other by a space,
// before the text or JSON handler sees them. Every package logs through
// it, so none has to remember to.
type safeHandler struct{ slog.Handler }

func (h safeHandler) Handle(ctx context.Context, r slog.Record) error {
	dirty := hasControl(r.Message)
	r.Attrs(func(a slog.Attr) bool {
		dirty = dirty || !attrClean(a)
		return !dirty
	})
	if !dirty {
		return h.Handler.Handle(ctx, r)
	}
	out := slog.NewRecord(r.Time, r.Level, oneLine(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(safeAttr(a))
		return true
	})
	return h.Handler.Handle(ctx, out)
}

func (h safeHandler) WithAttrs(as []slog.Attr) slog.Handler {
	safe := make([]slog.Attr, len(as))
	for i, a := range as {
		safe[i] = safeAttr(a)
	}
	return safeHandler{h.Handler.WithAttrs(safe)}
}

func (h safeHandler) WithGroup(name string) slog.Handler {
	return safeHandler{h.Handler.WithGroup(oneLine(name))}
}

// attrClean reports whether a needs no change (the common case, so a
// clean record is passed on as it is).
func attrClean(a slog.Attr) bool {
	if hasControl(a.Key) {
		return false
	}
	v := a.Value
	switch v.Kind() {
	case slog.KindString:
		return !hasControl(v.String())
	case slog.KindGroup:
		for _, g := range v.Group() {
			if !attrClean(g) {
				return false
			}
		}
		return true
	case slog.KindAny, slog.KindLogValuer:
		return false // resolved and checked by safeAttr
	}
	return true
}

func safeAttr(a slog.Attr) slog.Attr {
	a.Key = oneLine(a.Key)
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		a.Value = slog.StringValue(oneLine(v.String()))
	case slog.KindGroup:
		g := v.Group()
		safe := make([]slog.Attr, len(g))
		for i, x := range g {
			safe[i] = safeAttr(x)
		}
		a.Value = slog.GroupValue(safe...)
	case slog.KindAny:
		switch x := v.Any().(type) {
		case error:
			a.Value = slog.StringValue(oneLine(x.Error()))
		case fmt.Stringer:
			a.Value = slog.StringValue(oneLine(x.String()))
		case []string:
			safe := make([]string, len(x))
			for i, s := range x {
				safe[i] = oneLine(s)
			}
			a.Value = slog.AnyValue(safe)
		default:
			a.Value = v
		}
	default:
		a.Value = v
	}
	return a
}

// hasControl reports whether s holds a control character (C0, DEL or C1,
// as unicode.IsControl), scanning bytes: it runs on every log string.
func hasControl(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20 || c == 0x7f:
			return true
		case c == 0xc2 && i+1 < len(s) && s[i+1] >= 0x80 && s[i+1] <= 0x9f: // U+0080–U+009F
			return true
		}
	}
	return false
}

// oneLine replaces line breaks ("\r\n", "\n", "\r") by "; " and other
// control characters by a space.
func oneLine(s string) string {
	if !hasControl(s) {
		return s
	}
	s = strings.ReplaceAll(s, "\r\n", "\n")
	var b strings.Builder
	b.Grow(len(s) + 8)
	for _, r := range s {
		switch {
		case r == '\n' || r == '\r':
			b.WriteString("; ")
		case unicode.IsControl(r):
			b.WriteByte(' ')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
