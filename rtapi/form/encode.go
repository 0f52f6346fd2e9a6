package form

import (
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ValidKey reports whether key may be sent as a field name. Allowed are RT's
// plain names ([A-Za-z][A-Za-z0-9_-]*) and CF.{Name} where Name is not empty
// and has no comma (RT's grammar), no braces and no control characters (so the
// server cannot read the key boundary elsewhere).
func ValidKey(key string) error {
	if name, ok := cfName(key); ok {
		if err := validCFName(name); err != nil {
			return err
		}
		return nil
	}
	if simpleNameLen(key) == len(key) && key != "" {
		return nil
	}
	return fmt.Errorf("%w: %q", ErrInvalidKey, key)
}

// CFKey returns the field name for custom field name, "CF.{name}".
func CFKey(name string) (string, error) {
	if err := validCFName(name); err != nil {
		return "", err
	}
	return "CF.{" + name + "}", nil
}

func validCFName(name string) error {
	if name == "" || strings.ContainsAny(name, ",{}") || strings.IndexFunc(name, isControl) >= 0 || !utf8.ValidString(name) {
		return fmt.Errorf("%w: custom field name %q (must be non-empty, without comma, braces or control characters)", ErrInvalidKey, name)
	}
	return nil
}

// cfName returns Name when key has the form CF.{Name} (prefix case-insensitive).
func cfName(key string) (string, bool) {
	if len(key) < 5 || !strings.EqualFold(key[:4], "CF.{") || key[len(key)-1] != '}' {
		return "", false
	}
	return key[4 : len(key)-1], true
}

func isControl(r rune) bool {
	return unicode.IsControl(r) || r == 0x2028 || r == 0x2029
}

// SingleLine folds v for a one-line field (Subject, Owner, …): every CR, LF,
// other control character and line/paragraph separator becomes a space, runs
// of spaces collapse and the result is trimmed. Use it for callers that want
// a header-like value rather than the multi-line block Encode would produce.
func SingleLine(v string) string {
	var b strings.Builder
	b.Grow(len(v))
	space := false
	for _, r := range v {
		if isControl(r) || isSpace(r) {
			space = true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	return b.String()
}

// Encode returns the form text: LF line ends, "Key: value" per field.
//
// A value that spans lines, starts with whitespace, or (after a CF.{…} key)
// contains '}' is written as a block: "Key:", a line holding one space, then
// every value line prefixed by exactly one space. RT's parser then keeps the
// value byte-exact (indentation, tabs, trailing blank lines), and since every
// block line starts with a space no value can start a field, a "--" form
// separator or a comment. Normalisation: CRLF and lone CR become LF (RT would
// otherwise keep a stray CR); leading blank lines of a block are dropped by RT.
func (f Form) Encode() ([]byte, error) {
	return f.AppendTo(make([]byte, 0, f.sizeHint()))
}

func (f Form) sizeHint() int {
	n := 0
	for _, fl := range f {
		n += len(fl.Key) + len(fl.Value) + 8
	}
	return n
}

// WriteTo writes the encoded form to w. Nothing is written when a key is
// invalid.
func (f Form) WriteTo(w io.Writer) (int64, error) {
	b, err := f.Encode()
	if err != nil {
		return 0, err
	}
	n, err := w.Write(b)
	return int64(n), err
}

// AppendTo appends the encoded form to b.
func (f Form) AppendTo(b []byte) ([]byte, error) {
	for _, fl := range f {
		if err := ValidKey(fl.Key); err != nil {
			return b, err
		}
		b = appendField(b, fl.Key, fl.Value)
	}
	return b, nil
}

func appendField(b []byte, key, v string) []byte {
	b = append(b, key...)
	b = append(b, ':')
	if !needsBlock(key, v) {
		if v != "" {
			b = append(b, ' ')
			b = append(b, v...)
		}
		return append(b, '\n')
	}
	// The single-space line pins RT's common-indent removal to one space.
	b = append(b, "\n \n"...)
	if strings.IndexByte(v, '\r') >= 0 {
		v = strings.ReplaceAll(strings.ReplaceAll(v, "\r\n", "\n"), "\r", "\n")
	}
	for {
		line, rest, more := strings.Cut(v, "\n")
		b = append(b, ' ')
		b = append(b, line...)
		b = append(b, '\n')
		if !more {
			return b
		}
		v = rest
	}
}

func needsBlock(key, v string) bool {
	if v == "" {
		return false
	}
	if strings.ContainsAny(v, "\r\n") || leadingSpace(v) > 0 {
		return true
	}
	// RT finds the end of a CF.{…} name at the last "}:" before the first
	// comma of the whole line, so a '}' in the value could move it.
	if _, ok := cfName(key); ok && strings.ContainsRune(v, '}') {
		return true
	}
	return false
}
