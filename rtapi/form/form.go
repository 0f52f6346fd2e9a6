// Package form speaks RT REST 1.0's text form language: it encodes request
// forms so RT stores every value byte-exact and untrusted text can never start
// a field of its own, and it parses RT's answers (status line, "#" comments,
// "--"-separated records) with the same rules as RT's own form_parse.
//
// It is pure: no I/O beyond an io.Writer, no package state.
package form

import (
	"errors"
	"strings"
)

// Sentinel errors, wrapped with detail; test with errors.Is.
var (
	// ErrInvalidKey: a key RT's field-name grammar would not read back as
	// the same key (so it could be dropped or alter a neighbouring field).
	ErrInvalidKey = errors.New("form: invalid field name")
	// ErrUnsafeValue: a value that cannot be expressed in the form language
	// (e.g. a list item containing a comma or a newline).
	ErrUnsafeValue = errors.New("form: value cannot be encoded safely")
	// ErrNotRT: the body does not start with an RT status line (an HTML
	// login or error page, a proxy's text, …).
	ErrNotRT = errors.New("form: not an RT REST 1.0 answer")
	// ErrTruncated: an attachment content body without its blank line.
	ErrTruncated = errors.New("form: truncated RT answer")
)

// Field is one "Key: value" entry.
type Field struct{ Key, Value string }

// Form is an ordered list of fields; a key may repeat (RT accumulates the
// values, e.g. two Attachment: lines).
type Form []Field

// Add appends a field.
func (f *Form) Add(key, value string) { *f = append(*f, Field{key, value}) }

// Get returns the first value of key (case-insensitive, like RT).
func (f Form) Get(key string) (string, bool) {
	for _, fl := range f {
		if strings.EqualFold(fl.Key, key) {
			return fl.Value, true
		}
	}
	return "", false
}

// isSpace is Perl's \s on a decoded string (RT decodes every parameter as
// UTF-8 before form_parse), which is what decides where RT's fields and
// continuation lines begin.
func isSpace(r rune) bool {
	switch r {
	case ' ', '\t', '\n', '\v', '\f', '\r', 0x85, 0xA0, 0x1680, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000:
		return true
	}
	return r >= 0x2000 && r <= 0x200A
}

// leadingSpace returns the length in bytes of s's leading Perl whitespace.
func leadingSpace(s string) int {
	for i, r := range s {
		if !isSpace(r) {
			return i
		}
	}
	return len(s)
}
