package mailparse

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Options tune parsing; the zero value is ready to use. The Max fields
// bound the work a single mail can cause: a mail over one of them is still
// parsed and delivered, with what lies beyond left in the raw message (the
// executor attaches it as original.eml), a problem saying so and the cap's
// name in Mail.Capped.
type Options struct {
	// MaxBodyBytes bounds a text or HTML body kept in memory (default
	// 8 MiB). A larger body part becomes an attachment instead.
	MaxBodyBytes int
	// MaxHeaderBytes bounds a header block (default 256 KiB); the rest of
	// the block is skipped.
	MaxHeaderBytes int
	// MaxDepth bounds multipart nesting (default 32); a deeper multipart
	// becomes an attachment.
	MaxDepth int
	// MaxParts bounds the MIME parts read (default 1000); later parts are
	// not read.
	MaxParts int
	// MaxAttachments bounds the attachments of one mail (default 100);
	// later ones are not listed.
	MaxAttachments int
	// MaxTextBytes bounds the text and HTML bodies together (default
	// 8 MiB); the text is cut there.
	MaxTextBytes int
}

// The defaults of Options.
const (
	DefaultMaxBodyBytes   = 8 << 20
	DefaultMaxHeaderBytes = 256 << 10
	DefaultMaxDepth       = 32
	DefaultMaxParts       = 1000
	DefaultMaxAttachments = 100
	DefaultMaxTextBytes   = 8 << 20
)

// Names of the caps in Mail.Capped (for a metric label).
const (
	CapHeaderBytes = "header_bytes"
	CapDepth       = "depth"
	CapParts       = "parts"
	CapAttachments = "attachments"
	CapTextBytes   = "text_bytes"
)

func (o Options) maxBody() int        { return orDefault(o.MaxBodyBytes, DefaultMaxBodyBytes) }
func (o Options) maxHeader() int      { return orDefault(o.MaxHeaderBytes, DefaultMaxHeaderBytes) }
func (o Options) maxDepth() int       { return orDefault(o.MaxDepth, DefaultMaxDepth) }
func (o Options) maxParts() int       { return orDefault(o.MaxParts, DefaultMaxParts) }
func (o Options) maxAttachments() int { return orDefault(o.MaxAttachments, DefaultMaxAttachments) }
func (o Options) maxText() int        { return orDefault(o.MaxTextBytes, DefaultMaxTextBytes) }

func orDefault(v, d int) int {
	if v <= 0 {
		return d
	}
	return v
}

// bodies collects the text and HTML bodies within one budget, and notes
// attachments beyond MaxAttachments. Pieces joined once at the end, not
// string concatenation: many small text parts cost their size, not its
// square, and a mail of one big body keeps it without a copy.
type bodies struct {
	text, html pieces
	budget     int
	cut        bool
	moreAtts   bool
}

type pieces struct {
	list []string
	n    int // bytes in list
}

func (p *pieces) add(s string) {
	if s != "" {
		p.list = append(p.list, s)
		p.n += len(s)
	}
}

func (p *pieces) endsLine() bool {
	return len(p.list) == 0 || strings.HasSuffix(p.list[len(p.list)-1], "\n")
}

func (p *pieces) String() string {
	if len(p.list) == 1 {
		return p.list[0]
	}
	return strings.Join(p.list, "")
}

// add appends a body part, on a line of its own, as far as the budget
// goes.
func (b *bodies) add(html bool, s string) {
	p := &b.text
	if html {
		p = &b.html
	}
	sep := ""
	if p.n > 0 && !p.endsLine() {
		sep = "\n"
	}
	room := b.budget - b.text.n - b.html.n - len(sep)
	if room < len(s) {
		b.cut = true
		if room <= 0 {
			return
		}
		s = cutUTF8(s, room)
	}
	p.add(sep)
	p.add(s)
}

// full reports whether the budget is used up.
func (b *bodies) full() bool { return b.cut }

func (b *bodies) problem() string {
	return fmt.Sprintf("text longer than %d bytes: it was cut there; the full text is in the original message", b.budget)
}

// cutUTF8 cuts s to at most n bytes, not inside a character.
func cutUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
