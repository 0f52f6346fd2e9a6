package mailparse

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"mime"
	"mime/quotedprintable"
	"strings"
	"unicode/utf8"

	"github.com/emersion/go-message/charset"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/ianaindex"
)

// transferDecoder undoes Content-Transfer-Encoding. Unknown encodings pass
// the bytes through and say so.
func transferDecoder(cte string, r io.Reader) (io.Reader, string) {
	switch strings.ToLower(strings.TrimSpace(cte)) {
	case "", "7bit", "8bit", "binary":
		return r, ""
	case "base64":
		return &lazyReader{open: func() io.Reader { return &base64Reader{br: bufio.NewReader(r)} }}, ""
	case "quoted-printable":
		return &lazyReader{open: func() io.Reader { return quotedprintable.NewReader(r) }}, ""
	default:
		return r, fmt.Sprintf("unknown Content-Transfer-Encoding %q; content kept undecoded", trimForProblem(cte))
	}
}

// lazyReader makes its decoder (and the decoder's buffer) on the first
// Read: a part nobody reads (past MaxAttachments) costs nothing.
type lazyReader struct {
	open func() io.Reader
	r    io.Reader
}

func (l *lazyReader) Read(p []byte) (int, error) {
	if l.r == nil {
		l.r = l.open()
	}
	return l.r.Read(p)
}

// base64Reader decodes base64 leniently: bytes outside the alphabet (line
// ends, blanks, garbage) are skipped, decoding stops at padding, and a
// truncated last group yields the bytes it can. The standard decoder fails
// on the first stray byte, which would lose an attachment.
type base64Reader struct {
	br   *bufio.Reader
	quad [4]byte
	n    int
	out  [3]byte
	rest []byte
	done bool
}

func b64val(c byte) (byte, bool) {
	switch {
	case c >= 'A' && c <= 'Z':
		return c - 'A', true
	case c >= 'a' && c <= 'z':
		return c - 'a' + 26, true
	case c >= '0' && c <= '9':
		return c - '0' + 52, true
	case c == '+' || c == '-':
		return 62, true
	case c == '/' || c == '_':
		return 63, true
	}
	return 0, false
}

func (d *base64Reader) Read(p []byte) (int, error) {
	written := 0
	for written < len(p) {
		if len(d.rest) > 0 {
			n := copy(p[written:], d.rest)
			d.rest = d.rest[n:]
			written += n
			continue
		}
		if d.done {
			break
		}
		c, err := d.br.ReadByte()
		if err != nil {
			d.flush()
			d.done = true
			if err != io.EOF {
				return written, err
			}
			continue
		}
		if c == '=' {
			// Padding ends this encoded run. Some mailers concatenate
			// several base64 runs; keep decoding after the padding.
			d.flush()
			continue
		}
		v, ok := b64val(c)
		if !ok {
			continue
		}
		d.quad[d.n] = v
		d.n++
		if d.n == 4 {
			d.flush()
		}
		if written > 0 && d.br.Buffered() == 0 && len(d.rest) == 0 {
			break // don't block for more input when we have something
		}
	}
	if written == 0 && d.done && len(d.rest) == 0 {
		return 0, io.EOF
	}
	return written, nil
}

// flush turns the collected sextets into bytes (a partial group of 2 or 3
// gives 1 or 2 bytes; a lone sextet carries no whole byte).
func (d *base64Reader) flush() {
	q := d.quad
	n := 0
	switch d.n {
	case 4:
		d.out[0], d.out[1], d.out[2] = q[0]<<2|q[1]>>4, q[1]<<4|q[2]>>2, q[2]<<6|q[3]
		n = 3
	case 3:
		d.out[0], d.out[1] = q[0]<<2|q[1]>>4, q[1]<<4|q[2]>>2
		n = 2
	case 2:
		d.out[0] = q[0]<<2 | q[1]>>4
		n = 1
	}
	d.n = 0
	d.rest = d.out[:n]
}

// decodeText converts text in charset cs to UTF-8. Unknown or broken
// charsets degrade to the bytes themselves (valid UTF-8 kept, otherwise read
// as Windows-1252), never to an error.
func decodeText(raw []byte, cs string) (string, string) {
	cs = strings.ToLower(strings.Trim(strings.TrimSpace(cs), `"'`))
	switch cs {
	case "", "us-ascii", "ascii", "utf-8", "utf8":
		if utf8.Valid(raw) {
			return string(raw), ""
		}
		if cs == "utf-8" || cs == "utf8" {
			return strings.ToValidUTF8(string(raw), "\uFFFD"), "text declared UTF-8 is not valid UTF-8; bad bytes replaced"
		}
		return latin1(raw), ""
	}
	if b, err := fromCharset(cs, raw); err == nil {
		return strings.ToValidUTF8(string(b), "\uFFFD"), ""
	}
	problem := fmt.Sprintf("unknown charset %q; text shown as received", trimForProblem(cs))
	if utf8.Valid(raw) {
		return string(raw), problem
	}
	return latin1(raw), problem
}

// latin1 reads bytes as Windows-1252, the usual meaning of unlabeled 8-bit
// mail; every byte maps to a character, so nothing is lost.
func latin1(raw []byte) string {
	s, err := charmap.Windows1252.NewDecoder().Bytes(raw)
	if err != nil {
		return strings.ToValidUTF8(string(raw), "\uFFFD")
	}
	return string(s)
}

// fromCharset converts raw from charset cs to UTF-8 with every charset
// go-message knows. The IANA names, nearly all of them, are converted in one
// step: charset.Reader's streaming converter allocates 8 KiB per call, which
// a mail of a thousand tiny parts or encoded words would pay each time.
func fromCharset(cs string, raw []byte) ([]byte, error) {
	if enc, err := ianaindex.MIME.Encoding(cs); err == nil && enc != nil {
		if b, err := enc.NewDecoder().Bytes(raw); err == nil {
			return b, nil
		}
	}
	r, err := charset.Reader(cs, bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	return io.ReadAll(r)
}

// charsetReader is fromCharset for mime.WordDecoder (an encoded word is
// short).
func charsetReader(cs string, input io.Reader) (io.Reader, error) {
	raw, err := io.ReadAll(input)
	if err != nil {
		return nil, err
	}
	b, err := fromCharset(cs, raw)
	if err != nil {
		return nil, err
	}
	return bytes.NewReader(b), nil
}

// newWordDecoder decodes RFC 2047 encoded words with every charset
// go-message knows.
func newWordDecoder() *mime.WordDecoder { return &mime.WordDecoder{CharsetReader: charsetReader} }

// decodeHeader decodes RFC 2047 words and repairs raw 8-bit values. The
// result is one line: control characters (including an encoded CR or LF)
// become spaces, so a header can never smuggle a line into RT's form or a
// log.
func decodeHeader(v string) string {
	if plainASCII(v) {
		return strings.TrimSpace(v) // the common case, and a header of many fields
	}
	s, err := newWordDecoder().DecodeHeader(v)
	if err != nil {
		s = v
	}
	if !utf8.ValidString(s) {
		s = latin1([]byte(s))
	}
	return oneLine(s)
}

// plainASCII reports whether v is printable ASCII without encoded words:
// nothing for decodeHeader to do but trim.
func plainASCII(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 0x20 || c > 0x7e || c == '=' && i+1 < len(v) && v[i+1] == '?' {
			return false
		}
	}
	return true
}

// oneLine replaces control characters with spaces and trims.
func oneLine(s string) string {
	if strings.IndexFunc(s, isCtl) < 0 {
		return strings.TrimSpace(s)
	}
	return strings.TrimSpace(strings.Map(func(r rune) rune {
		if isCtl(r) {
			return ' '
		}
		return r
	}, s))
}

func isCtl(r rune) bool { return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) }

// trimForProblem keeps sender-controlled text in problem messages short and
// on one line.
func trimForProblem(s string) string {
	s = oneLine(s)
	if len(s) > 60 {
		s = s[:60] + "…"
	}
	return strings.ToValidUTF8(s, "?")
}
