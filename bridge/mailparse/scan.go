package mailparse

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// level is one open multipart: its boundary and how far its parts got.
type level struct {
	parent   *level
	boundary string // as matched: trailing blanks removed
	depth    int    // 1 for the outermost multipart
	digest   bool   // multipart/digest: parts default to message/rfc822
	parts    int
	final    bool   // the closing delimiter was seen
	preamble []byte // start of the text before the first delimiter
}

// scanBufSize is the scanner's buffer: a line longer than this is handed
// out in pieces, and only the first piece can be a delimiter.
const scanBufSize = 64 << 10

// scanner reads a raw message once, line by line, with a single buffer. The
// part being read (a segment) ends at the input's end or at a delimiter
// line of any open multipart, whatever the depth: nested multiparts cost
// one map lookup per line that starts with "--", not a reader per level.
//
// Hand-written instead of mime/multipart or go-message because those fail
// hard on stray lines between parts and on a missing final boundary, and
// stack one reader per nesting level.
type scanner struct {
	br     *bufio.Reader
	off    int64 // raw offset of the next byte br hands out
	lineAt int64 // raw offset where the line read last begins
	top    *level
	bounds map[string]*level // boundary → outermost open level with it

	// The segment being read.
	atLineStart bool
	out, next   []byte // bytes to hand out: out first, then next
	held        []byte // line end held back until no delimiter follows
	heldBuf     [2]byte
	emitBuf     [2]byte
	end         int64  // raw offset where the ended segment's content ends
	lastEOL     int    // length of the line end of the line read last
	hdrBuf      []byte // a header line, kept while looking ahead
	cut         bool   // headerLines dropped the line end of the last line
	done        bool   // the segment ended
	hit         *level // the level whose delimiter ended it; nil at the input's end
	final       bool   // that delimiter was the closing one
	eof         bool
}

// newScanner reads r from the start of a message.
func newScanner(r io.Reader) *scanner {
	return &scanner{br: bufio.NewReaderSize(r, scanBufSize), atLineStart: true}
}

func (s *scanner) addBound(l *level) {
	if s.bounds == nil {
		s.bounds = map[string]*level{}
	}
	if _, ok := s.bounds[l.boundary]; !ok {
		s.bounds[l.boundary] = l
	}
}

// push opens a multipart; the current segment goes on as its preamble.
func (s *scanner) push(l *level) {
	l.parent = s.top
	s.top = l
	s.addBound(l)
}

// pop closes the innermost multipart.
func (s *scanner) pop() {
	l := s.top
	s.top = l.parent
	if s.bounds[l.boundary] == l {
		delete(s.bounds, l.boundary)
	}
}

// resume starts the next segment after a delimiter line.
func (s *scanner) resume() {
	if s.eof {
		return
	}
	s.done, s.hit, s.final = false, nil, false
	s.atLineStart, s.lastEOL = true, 0
	s.out, s.next, s.held = nil, nil, nil
}

// delimiter tells whether a whole line is a delimiter of an open multipart
// ("--boundary" or the closing "--boundary--", trailing blanks allowed).
// The outermost level wins, as a part cannot outlive its parent.
func (s *scanner) delimiter(line []byte) (*level, bool) {
	if len(s.bounds) == 0 || len(line) < 2 || line[0] != '-' || line[1] != '-' {
		return nil, false
	}
	rest := bytes.TrimRight(line[2:], " \t\r\n")
	open := s.bounds[string(rest)]
	if bytes.HasSuffix(rest, []byte("--")) {
		if cl := s.bounds[string(rest[:len(rest)-2])]; cl != nil && (open == nil || cl.depth < open.depth) {
			return cl, true
		}
	}
	return open, false
}

// readSlice returns the segment's next line, with bufio.Reader.ReadSlice's
// contract: a piece of a long line comes with bufio.ErrBufferFull, the end
// of the segment with io.EOF. The slice is valid until the next read.
func (s *scanner) readSlice() ([]byte, error) {
	if s.done {
		return nil, io.EOF
	}
	s.out, s.next = nil, nil
	if s.atLineStart {
		s.lineAt = s.off
	}
	line, err := s.br.ReadSlice('\n')
	s.off += int64(len(line))
	switch {
	case errors.Is(err, bufio.ErrBufferFull):
		s.atLineStart, s.lastEOL = false, 0
		return line, err
	case err != nil && !errors.Is(err, io.EOF):
		return nil, err
	}
	if s.atLineStart {
		if l, final := s.delimiter(line); l != nil {
			// The line end before the delimiter is the delimiter's.
			s.done, s.hit, s.final, s.end = true, l, final, s.lineAt-int64(s.lastEOL)
			return nil, io.EOF
		}
	}
	s.atLineStart = true
	if err != nil {
		s.done, s.eof, s.end = true, true, s.off
		return line, io.EOF
	}
	s.lastEOL = len(line) - len(trimEOL(line))
	return line, nil
}

// headerLines reads a header block from the segment.
type headerLines struct{ s *scanner }

// readSlice is the scanner's readSlice, except that a line right before a
// delimiter comes without its line end (which belongs to the delimiter), as
// the part's content would show it.
func (h headerLines) readSlice() ([]byte, error) {
	s := h.s
	s.cut = false
	line, err := s.readSlice()
	if err != nil || len(s.bounds) == 0 {
		return line, err
	}
	s.hdrBuf = append(s.hdrBuf[:0], line...) // looking ahead moves the buffer
	if s.delimiterNext() {
		s.cut = true
		return trimEOL(s.hdrBuf), nil
	}
	return s.hdrBuf, nil
}

// delimiterNext tells, without consuming it, whether the next line is a
// delimiter.
func (s *scanner) delimiterNext() bool {
	for n := 2; ; n = min(2*n, scanBufSize) {
		b, err := s.br.Peek(n)
		if len(b) >= 2 && (b[0] != '-' || b[1] != '-') {
			return false
		}
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			l, _ := s.delimiter(b[:i+1])
			return l != nil
		}
		if err != nil || n == scanBufSize {
			if errors.Is(err, io.EOF) {
				l, _ := s.delimiter(b)
				return l != nil
			}
			return false // a long line is never a delimiter
		}
	}
}

// unread puts back a line headerLines returned (a part's first line that
// turned out to be body, not header): it is handed out first, its line end
// held like any other.
func (s *scanner) unread(line []byte) {
	if s.eof || s.cut {
		s.out, s.held = line, nil // nothing to hold: the input or the part ends
		return
	}
	content := trimEOL(line)
	s.out = content
	s.held = s.heldBuf[:copy(s.heldBuf[:], line[len(content):])]
}

// Read hands out the segment's bytes. The line end before a delimiter
// belongs to the delimiter and is not part of the content.
func (s *scanner) Read(p []byte) (int, error) {
	for len(s.out) == 0 {
		switch {
		case len(s.next) > 0:
			s.out, s.next = s.next, nil
		case s.done:
			return 0, io.EOF
		case len(s.bounds) == 0:
			return s.readRaw(p)
		default:
			if err := s.fill(); err != nil {
				return 0, err
			}
		}
	}
	n := copy(p, s.out)
	s.out = s.out[n:]
	return n, nil
}

// readRaw reads outside any multipart, where no line can end the segment.
func (s *scanner) readRaw(p []byte) (int, error) {
	if len(s.held) > 0 {
		n := copy(p, s.held)
		s.held = s.held[n:]
		return n, nil
	}
	n, err := s.br.Read(p)
	s.off += int64(n)
	if errors.Is(err, io.EOF) {
		s.done, s.eof, s.end = true, true, s.off
		if n > 0 {
			err = nil
		}
	}
	return n, err
}

// fill reads one line into out/next without copying it: Read only calls
// it once both are used up, so the buffer under next is still valid.
func (s *scanner) fill() error {
	line, err := s.readSlice()
	switch {
	case errors.Is(err, bufio.ErrBufferFull):
		s.emit(line, nil) // a long line: never a delimiter (boundaries are short)
		return nil
	case errors.Is(err, io.EOF):
		if s.hit != nil {
			s.held = nil // the line end before a delimiter is the delimiter's
			return nil
		}
		s.emit(line, nil) // the input ended inside the part
		return nil
	case err != nil:
		return err
	}
	content := trimEOL(line)
	s.emit(content, line[len(content):])
	return nil
}

func (s *scanner) emit(content, eol []byte) {
	s.out = s.emitBuf[:copy(s.emitBuf[:], s.held)]
	s.next = content
	s.held = s.heldBuf[:copy(s.heldBuf[:], eol)]
}

// skip reads to the end of the segment; keep, when not nil, receives its
// raw lines.
func (s *scanner) skip(keep func([]byte)) error {
	for !s.done {
		line, err := s.readSlice()
		if keep != nil && len(line) > 0 {
			keep(line)
		}
		if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
			return err
		}
	}
	return nil
}
