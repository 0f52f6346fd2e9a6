package mailparse

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// multipartReader splits a multipart body into parts, line by line, without
// buffering a part: a part's bytes stream out as they are read. It is
// lenient where real mail is broken: a missing final boundary ends the last
// part at EOF, text between parts is ignored, LF-only line ends work.
//
// Hand-written instead of go-message's textproto.MultipartReader because
// that one fails hard on stray lines between parts and on a missing final
// boundary, and this package must never lose a part for such reasons.
type multipartReader struct {
	br    *bufio.Reader
	dash  []byte // "--" + boundary
	parts int
	cur   *partReader
	final bool // the closing delimiter was seen
	eof   bool // the input ended
	// preamble keeps the start of the text before the first delimiter, so a
	// "multipart" without any delimiter still shows its text.
	preamble    []byte
	maxPreamble int
}

func newMultipartReader(r io.Reader, boundary string, maxPreamble int) *multipartReader {
	return &multipartReader{
		br:          bufio.NewReaderSize(r, 32<<10),
		dash:        []byte("--" + boundary),
		maxPreamble: maxPreamble,
	}
}

// delimiter classifies a whole line: 1 = part delimiter, 2 = final.
func (m *multipartReader) delimiter(line []byte) int {
	if !bytes.HasPrefix(line, m.dash) {
		return 0
	}
	rest := bytes.TrimRight(line[len(m.dash):], " \t\r\n")
	switch {
	case len(rest) == 0:
		return 1
	case bytes.Equal(rest, []byte("--")):
		return 2
	}
	return 0
}

// next returns the next part's reader (header and body, undecoded), or
// io.EOF after the last part.
func (m *multipartReader) next() (io.Reader, error) {
	if m.cur != nil {
		if _, err := io.Copy(io.Discard, m.cur); err != nil {
			return nil, err
		}
		m.cur = nil
	}
	if m.final || m.eof {
		return nil, io.EOF
	}
	if m.parts == 0 {
		found, err := m.skipPreamble()
		if err != nil {
			return nil, err
		}
		if !found {
			return nil, io.EOF
		}
	}
	m.parts++
	m.cur = &partReader{m: m, atLineStart: true}
	return m.cur, nil
}

// skipPreamble reads up to and including the first delimiter. found is
// false (and err nil) when the body ended or closed before any part.
func (m *multipartReader) skipPreamble() (found bool, err error) {
	atLineStart := true
	for {
		line, err := m.br.ReadSlice('\n')
		full := len(line) > 0 && line[len(line)-1] == '\n'
		if atLineStart && (full || errors.Is(err, io.EOF)) {
			switch m.delimiter(line) {
			case 1:
				return true, nil
			case 2:
				m.final = true
				return false, nil
			}
		}
		if len(m.preamble) < m.maxPreamble {
			n := min(len(line), m.maxPreamble-len(m.preamble))
			m.preamble = append(m.preamble, line[:n]...)
		}
		atLineStart = full
		if errors.Is(err, io.EOF) {
			m.eof = true
			return false, nil
		}
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			return false, err
		}
	}
}

// partReader streams one part up to (not including) the line end before
// the next delimiter.
type partReader struct {
	m           *multipartReader
	out         []byte // pending bytes to hand out (a window on buf)
	buf         []byte // reused for every line: no allocation per line
	held        []byte // line end held back until we know no delimiter follows
	atLineStart bool
	done        bool
}

func (p *partReader) Read(b []byte) (int, error) {
	for len(p.out) == 0 {
		if p.done {
			return 0, io.EOF
		}
		if err := p.fill(); err != nil {
			return 0, err
		}
	}
	n := copy(b, p.out)
	p.out = p.out[n:]
	return n, nil
}

func (p *partReader) fill() error {
	m := p.m
	line, err := m.br.ReadSlice('\n')
	switch {
	case errors.Is(err, bufio.ErrBufferFull):
		// A long line: never a delimiter (boundaries are short).
		p.emit(line, nil)
		p.atLineStart = false
		return nil
	case err != nil && !errors.Is(err, io.EOF):
		return err
	}
	if p.atLineStart {
		if d := m.delimiter(line); d != 0 {
			p.done = true
			p.held = nil
			m.final = d == 2
			return nil
		}
	}
	if errors.Is(err, io.EOF) {
		// The input ended inside the part: no final delimiter.
		p.emit(line, nil)
		p.done = true
		m.eof = true
		return nil
	}
	body := trimEOL(line)
	p.emit(body, line[len(body):])
	p.atLineStart = true
	return nil
}

// emit queues the held line end plus content, and holds eol back. It is
// only called once out is used up, so buf can be refilled.
func (p *partReader) emit(content, eol []byte) {
	p.buf = append(p.buf[:0], p.held...)
	p.buf = append(p.buf, content...)
	p.out = p.buf
	p.held = append(p.held[:0], eol...)
}
