package mailparse

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/textproto"
)

// field is one header field as received: the canonical key and the raw,
// unfolded value (not yet RFC 2047 decoded).
type field struct {
	Key   string
	Value string
}

// header is an entity header in order of appearance.
type header []field

// get returns the first value of key ("" when absent).
func (h header) get(key string) string {
	key = textproto.CanonicalMIMEHeaderKey(key)
	for _, f := range h {
		if f.Key == key {
			return f.Value
		}
	}
	return ""
}

// has reports whether key is present at all.
func (h header) has(key string) bool {
	key = textproto.CanonicalMIMEHeaderKey(key)
	for _, f := range h {
		if f.Key == key {
			return true
		}
	}
	return false
}

// values returns every value of key.
func (h header) values(key string) []string {
	key = textproto.CanonicalMIMEHeaderKey(key)
	var vs []string
	for _, f := range h {
		if f.Key == key {
			vs = append(vs, f.Value)
		}
	}
	return vs
}

// lineReader hands out a header block line by line, with
// bufio.Reader.ReadSlice's contract (a piece of a long line comes with
// bufio.ErrBufferFull).
type lineReader interface {
	readSlice() ([]byte, error)
}

type bufLines struct{ *bufio.Reader }

func (b bufLines) readSlice() ([]byte, error) { return b.ReadSlice('\n') }

// readHeader reads a header block leniently: real mail has leading blanks,
// continuation lines without indentation, 8-bit bytes and no blank line at
// all. It never fails on content, only on read errors. leftover holds the
// first line when it turned out to be body (a part that starts without a
// header); the caller puts it back in front of the body. capped says the
// block was longer than maxBytes: the rest of it was read and dropped.
//
// The work is linear in the block: a field folded over many lines grows one
// buffer, never a string per line.
func readHeader(lr lineReader, maxBytes int) (h header, leftover []byte, capped bool, problems []string, err error) {
	total := 0
	var val []byte // value of the last field, still growing
	keep := func() {
		if len(h) > 0 {
			h[len(h)-1].Value = string(val)
		}
	}
	add := func(k string, v []byte) {
		keep()
		if len(h) == cap(h) {
			// Double: append grows a large slice by a quarter, copying
			// a header of many thousand fields over and over.
			h = append(make(header, 0, 2*cap(h)+16), h...)
		}
		h = append(h, field{Key: k})
		val = append(val[:0], v...)
	}
	join := func(more []byte) {
		val = append(val, ' ')
		val = append(val, bytes.TrimSpace(more)...)
	}
	for first := true; ; first = false {
		line, rerr := lr.readSlice()
		if first && errors.Is(rerr, bufio.ErrBufferFull) {
			if _, _, ok := splitField(line); !ok && !isWSP(line[0]) {
				// A long first line that is no field: body from here on;
				// the rest of the line follows in the body.
				return nil, append([]byte(nil), line...), false, append(problems, "part without header"), nil
			}
		}
		if errors.Is(rerr, bufio.ErrBufferFull) {
			line, rerr = readLine(lr, line, maxBytes)
		}
		total += len(line)
		if rerr != nil && !errors.Is(rerr, io.EOF) {
			keep()
			return h, nil, capped, problems, rerr
		}
		content := trimEOL(line)
		if len(content) == 0 {
			// Blank line (end of header) or EOF.
			keep()
			return h, nil, capped, problems, nil
		}
		if total > maxBytes {
			if !capped {
				problems = append(problems, fmt.Sprintf("header block larger than %d bytes; the rest of it was skipped (it is in the original message)", maxBytes))
				capped = true
			}
		} else if isWSP(content[0]) {
			if len(h) == 0 {
				// A first line starting with blanks: take it as a field if
				// it looks like one.
				trimmed := bytes.TrimLeft(content, " \t")
				if k, v, ok := splitField(trimmed); ok {
					add(k, v)
					problems = append(problems, "header starts with white space")
				} else {
					problems = append(problems, "ignored a header continuation line without a field")
				}
			} else {
				join(content)
			}
		} else if k, v, ok := splitField(content); ok {
			add(k, v)
		} else if first {
			// Not a header at all: the entity has no header, and this line
			// is already body.
			return nil, append([]byte(nil), line...), false, append(problems, "part without header"), nil
		} else if len(h) > 0 {
			// A folded line that lost its indentation.
			join(content)
			problems = append(problems, "header line without a colon joined to the previous field")
		}
		if rerr != nil { // EOF inside the header: header-only entity
			keep()
			return h, nil, capped, problems, nil
		}
	}
}

// splitField splits "Key: value"; the key must be printable ASCII without
// blanks (trailing blanks before the colon are tolerated).
func splitField(line []byte) (key string, value []byte, ok bool) {
	i := bytes.IndexByte(line, ':')
	if i <= 0 {
		return "", nil, false
	}
	k := bytes.TrimRight(line[:i], " \t")
	if len(k) == 0 {
		return "", nil, false
	}
	for _, c := range k {
		if c <= ' ' || c >= 0x7f {
			return "", nil, false
		}
	}
	return textproto.CanonicalMIMEHeaderKey(string(k)), bytes.TrimSpace(line[i+1:]), true
}

// readLine completes a line longer than the reader's buffer, of which
// first is the first piece; beyond max the rest is read and dropped, so a
// hostile header cannot grow memory without bound.
func readLine(lr lineReader, first []byte, max int) ([]byte, error) {
	out := append([]byte(nil), first[:min(len(first), max+2)]...)
	for {
		frag, err := lr.readSlice()
		if room := max + 2 - len(out); room > 0 {
			out = append(out, frag[:min(len(frag), room)]...)
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			return out, err
		}
	}
}

func trimEOL(b []byte) []byte {
	b = bytes.TrimSuffix(b, []byte("\n"))
	return bytes.TrimSuffix(b, []byte("\r"))
}

func isWSP(c byte) bool { return c == ' ' || c == '\t' }
