package mailparse

import (
	"bufio"
	"bytes"
	"errors"
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

// readHeader reads a header block leniently: real mail has leading blanks,
// continuation lines without indentation, 8-bit bytes and no blank line at
// all. It never fails on content, only on read errors. leftover holds bytes
// consumed that turned out to be body (a part that starts without a header);
// the caller puts them back in front of the body.
func readHeader(br *bufio.Reader, maxBytes int) (h header, leftover []byte, problems []string, err error) {
	total := 0
	truncated := false
	first := true
	for {
		line, rerr := readLine(br, maxBytes)
		total += len(line)
		if rerr != nil && !errors.Is(rerr, io.EOF) {
			return h, nil, problems, rerr
		}
		content := trimEOL(line)
		if len(content) == 0 {
			// Blank line (end of header) or EOF.
			return h, nil, problems, nil
		}
		if total > maxBytes {
			if !truncated {
				problems = append(problems, "header block too large; the rest of it was skipped")
				truncated = true
			}
		} else if isWSP(content[0]) {
			if len(h) == 0 {
				// A first line starting with blanks: take it as a field if
				// it looks like one.
				trimmed := bytes.TrimLeft(content, " \t")
				if k, v, ok := splitField(trimmed); ok {
					h = append(h, field{Key: k, Value: v})
					problems = append(problems, "header starts with white space")
				} else {
					problems = append(problems, "ignored a header continuation line without a field")
				}
			} else {
				h[len(h)-1].Value += " " + string(bytes.TrimSpace(content))
			}
		} else if k, v, ok := splitField(content); ok {
			h = append(h, field{Key: k, Value: v})
		} else if first {
			// Not a header at all: the entity has no header, and this line
			// is already body.
			problems = append(problems, "part without header")
			return nil, append([]byte(nil), line...), problems, nil
		} else if len(h) > 0 {
			// A folded line that lost its indentation.
			h[len(h)-1].Value += " " + string(bytes.TrimSpace(content))
			problems = append(problems, "header line without a colon joined to the previous field")
		}
		first = false
		if rerr != nil { // EOF inside the header: header-only entity
			return h, nil, problems, nil
		}
	}
}

// splitField splits "Key: value"; the key must be printable ASCII without
// blanks (trailing blanks before the colon are tolerated).
func splitField(line []byte) (key, value string, ok bool) {
	i := bytes.IndexByte(line, ':')
	if i <= 0 {
		return "", "", false
	}
	k := bytes.TrimRight(line[:i], " \t")
	if len(k) == 0 {
		return "", "", false
	}
	for _, c := range k {
		if c <= ' ' || c >= 0x7f {
			return "", "", false
		}
	}
	return textproto.CanonicalMIMEHeaderKey(string(k)), string(bytes.TrimSpace(line[i+1:])), true
}

// readLine reads one line including its end of line; a line longer than max
// is cut (the rest is read and dropped) so a hostile header cannot grow
// memory without bound.
func readLine(br *bufio.Reader, max int) ([]byte, error) {
	var out []byte
	for {
		frag, err := br.ReadSlice('\n')
		if len(out)+len(frag) <= max+2 {
			out = append(out, frag...)
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		return out, err
	}
}

func trimEOL(b []byte) []byte {
	b = bytes.TrimSuffix(b, []byte("\n"))
	return bytes.TrimSuffix(b, []byte("\r"))
}

func isWSP(c byte) bool { return c == ' ' || c == '\t' }
