package mailparse

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/url"
	"strings"
)

// entity is one leaf of the MIME tree as the walker hands it out. body is
// transfer-decoded and must be consumed (or abandoned) before the next call
// to walker.next.
type entity struct {
	hdr       header
	mediaType string            // lower case, e.g. "text/plain"
	params    map[string]string // Content-Type parameters (RFC 2231 decoded)
	disp      string            // "inline", "attachment" or ""
	dparams   map[string]string // Content-Disposition parameters
	body      io.Reader
	problems  []string
	loc       *partLoc
}

// partLoc is where a leaf's content lies in the raw message, so that
// Attachment.Open reads just that range again.
type partLoc struct {
	start, end int64  // raw offsets; end -1: to the end of the message
	cte        string // Content-Transfer-Encoding
	mem        []byte // the content itself, for a leaf made up in memory
}

// walker iterates over the leaves of a message in document order, reading
// it once.
type walker struct {
	opts     Options
	s        *scanner
	root     header
	started  bool
	rootLeaf *entity // the root itself when it is not multipart
	problems []string
	parts    int  // parts begun, for MaxParts
	stopped  bool // MaxParts reached: the rest is not read
	capped   map[string]bool
	cur      *partLoc // the leaf handed out last, until its end is known
}

func newWalker(r io.Reader, o Options) *walker {
	return &walker{opts: o, s: newScanner(r), capped: map[string]bool{}}
}

// header reads the header of the part the scanner is at, and where its
// content starts; bare is true when the part has no header at all.
func (w *walker) header() (h header, probs []string, start int64, bare bool, err error) {
	h, leftover, capped, probs, err := readHeader(headerLines{w.s}, w.opts.maxHeader())
	if capped {
		w.capped[CapHeaderBytes] = true
	}
	start = w.s.off
	if w.s.hit != nil {
		start = w.s.lineAt // the header ended at a delimiter: no content
	}
	if len(leftover) > 0 {
		start = w.s.lineAt
		w.s.unread(leftover)
	}
	return h, probs, start, len(leftover) > 0, err
}

// start reads the top-level header.
func (w *walker) start() error {
	h, probs, start, bare, err := w.header()
	w.root = h
	w.problems = append(w.problems, probs...)
	if err != nil {
		return err
	}
	if bare {
		w.problems = append(w.problems, "message without header")
	}
	w.rootLeaf = w.enter(h, "text/plain", start)
	w.started = true
	return nil
}

// enter classifies the entity whose content the scanner is at: a multipart
// is opened (nil is returned), anything else is returned as a leaf.
func (w *walker) enter(h header, defaultType string, start int64) *entity {
	e := &entity{hdr: h}
	ct := h.get("Content-Type")
	if strings.TrimSpace(ct) == "" {
		e.mediaType, e.params = defaultType, map[string]string{}
	} else {
		var p string
		e.mediaType, e.params, p = parseMediaType(ct)
		if p != "" {
			e.problems = append(e.problems, p)
		}
		e.mediaType = strings.Map(func(r rune) rune {
			if r < 0x80 && (r == '/' || r == '.' || r == '+' || r == '-' || r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9') {
				return r
			}
			return -1
		}, e.mediaType)
		if e.mediaType == "" || strings.Count(e.mediaType, "/") != 1 || strings.HasPrefix(e.mediaType, "/") || strings.HasSuffix(e.mediaType, "/") {
			e.problems = append(e.problems, fmt.Sprintf("unusable Content-Type %q; read as %s", trimForProblem(ct), defaultType))
			e.mediaType = defaultType
		}
	}
	if cd := h.get("Content-Disposition"); cd != "" {
		d, dp, _ := parseMediaType(cd)
		e.disp, e.dparams = d, dp
	}
	if strings.HasPrefix(e.mediaType, "multipart/") {
		boundary := e.params["boundary"]
		depth := 1
		if w.s.top != nil {
			depth = w.s.top.depth + 1
		}
		switch {
		case boundary == "":
			e.problems = append(e.problems, fmt.Sprintf("%s without boundary; body read as text", e.mediaType))
			e.mediaType = "text/plain"
		case depth > w.opts.maxDepth():
			e.problems = append(e.problems, "MIME nesting too deep; inner part kept as an attachment")
			e.mediaType = "application/octet-stream"
			w.capped[CapDepth] = true
		default:
			w.problems = append(w.problems, e.problems...)
			w.s.push(&level{boundary: strings.TrimRight(boundary, " \t"), depth: depth, digest: e.mediaType == "multipart/digest"})
			return nil
		}
	}
	e.loc = &partLoc{start: start, end: -1, cte: h.get("Content-Transfer-Encoding")}
	if w.s.top != nil {
		w.cur = e.loc // its end is the next delimiter
	}
	dec, p := transferDecoder(e.loc.cte, w.s)
	if p != "" {
		e.problems = append(e.problems, p)
	}
	e.body = &decodeGuard{r: dec, e: e}
	return e
}

// rawError marks a read error of the raw message itself, the only kind
// that makes parsing fail.
type rawError struct{ err error }

func (r rawError) Error() string { return r.err.Error() }
func (r rawError) Unwrap() error { return r.err }

// decodeGuard turns a decoding error (broken quoted-printable, …) into the
// end of the part plus a problem, so the content decoded so far is kept and
// the raw message gets attached.
type decodeGuard struct {
	r io.Reader
	e *entity
}

func (g *decodeGuard) Read(p []byte) (int, error) {
	n, err := g.r.Read(p)
	if err == nil || errors.Is(err, io.EOF) {
		return n, err
	}
	var re rawError
	if errors.As(err, &re) {
		return n, err
	}
	g.e.problems = append(g.e.problems, fmt.Sprintf("%s part: content cut at a decoding error (%v)", g.e.mediaType, trimForProblem(err.Error())))
	g.r = eofReader{}
	return n, io.EOF
}

type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }

// next returns the next leaf, or io.EOF after the last one. Only read
// errors of the raw message are returned; broken structure becomes a
// problem on the leaf or the walker.
func (w *walker) next() (*entity, error) {
	if !w.started {
		if err := w.start(); err != nil {
			return nil, err
		}
	}
	if w.rootLeaf != nil {
		e := w.rootLeaf
		w.rootLeaf = nil
		return e, nil
	}
	for w.s.top != nil && !w.stopped {
		top := w.s.top
		// Read what is left of the segment: the rest of the last leaf, the
		// preamble of a multipart just opened (kept, so a multipart without
		// any delimiter still shows its text), an epilogue.
		var keep func([]byte)
		eol := 0 // line end of the last line kept
		if top.parts == 0 {
			keep = func(line []byte) {
				n := min(len(line), w.opts.maxBody()-len(top.preamble))
				if n > 0 {
					top.preamble = append(top.preamble, line[:n]...)
				}
				eol = 0
				if n == len(line) {
					eol = len(line) - len(trimEOL(line))
				}
			}
		}
		if err := w.s.skip(keep); err != nil {
			return nil, err
		}
		if w.cur != nil {
			w.cur.end = max(w.s.end, w.cur.start)
			w.cur = nil
		}
		if w.s.hit != nil && w.s.hit != top && keep != nil {
			// The line end before an outer delimiter is the delimiter's.
			top.preamble = top.preamble[:len(top.preamble)-eol]
		}
		if w.s.hit != top {
			// The input ended, or a delimiter of an outer multipart came:
			// top ends here, and its parent sees the same delimiter.
			if e := w.close(); e != nil {
				return e, nil
			}
			continue
		}
		if w.s.final {
			// What follows is top's epilogue, up to its parent's next
			// delimiter.
			top.final = true
			e := w.close()
			w.s.resume()
			if e != nil {
				return e, nil
			}
			continue
		}
		top.parts++
		w.parts++
		if w.parts > w.opts.maxParts() {
			w.stopped = true
			w.capped[CapParts] = true
			w.problems = append(w.problems, fmt.Sprintf("more than %d MIME parts: only the first %d were read; the rest is in the original message", w.opts.maxParts(), w.opts.maxParts()))
			break
		}
		w.s.resume()
		h, probs, start, _, err := w.header()
		if err != nil {
			return nil, err
		}
		def := "text/plain"
		if top.digest {
			def = "message/rfc822"
		}
		if e := w.enter(h, def, start); e != nil {
			e.problems = append(probs, e.problems...)
			return e, nil
		}
		w.problems = append(w.problems, probs...)
	}
	return nil, io.EOF
}

// close ends the innermost multipart and notes how it ended; a multipart
// without any delimiter yields its text as a plain leaf so nothing is
// dropped.
func (w *walker) close() *entity {
	l := w.s.top
	w.s.pop()
	pre := l.preamble
	l.preamble = nil
	if l.parts == 0 {
		w.problems = append(w.problems, "multipart body without any part delimiter; body read as text")
		if len(bytes.TrimSpace(pre)) == 0 {
			return nil
		}
		return &entity{mediaType: "text/plain", params: map[string]string{}, body: bytes.NewReader(pre), loc: &partLoc{mem: pre}}
	}
	if !l.final {
		w.problems = append(w.problems, "multipart body ends without its closing boundary")
	}
	return nil
}

// parseMediaType parses a Content-Type or Content-Disposition value with
// RFC 2231 parameters; malformed parameters are parsed leniently instead of
// being lost.
func parseMediaType(v string) (string, map[string]string, string) {
	mt, params, err := mime.ParseMediaType(v)
	if err == nil {
		return mt, params, ""
	}
	mt, params = lenientMediaType(v)
	return mt, params, ""
}

func lenientMediaType(v string) (string, map[string]string) {
	params := map[string]string{}
	parts := splitParams(v)
	mt := strings.ToLower(strings.TrimSpace(parts[0]))
	if i := strings.IndexAny(mt, " \t"); i >= 0 {
		mt = mt[:i]
	}
	for _, p := range parts[1:] {
		k, val, ok := strings.Cut(p, "=")
		if !ok {
			continue
		}
		k = strings.ToLower(strings.TrimSpace(k))
		val = strings.TrimSpace(val)
		val = strings.TrimSuffix(strings.TrimPrefix(val, `"`), `"`)
		if strings.HasSuffix(k, "*") {
			// RFC 2231 extended value: charset'lang'percent-encoded.
			k = strings.TrimSuffix(k, "*")
			if c := strings.SplitN(val, "'", 3); len(c) == 3 {
				if u, err := url.PathUnescape(c[2]); err == nil {
					val = u
				} else {
					val = c[2]
				}
			}
		}
		if _, dup := params[k]; !dup && k != "" {
			params[k] = val
		}
	}
	return mt, params
}

// splitParams splits on semicolons outside double quotes.
func splitParams(v string) []string {
	var out []string
	inQuote := false
	start := 0
	for i := 0; i < len(v); i++ {
		switch v[i] {
		case '"':
			inQuote = !inQuote
		case '\\':
			if inQuote {
				i++
			}
		case ';':
			if !inQuote {
				out = append(out, v[start:i])
				start = i + 1
			}
		}
	}
	return append(out, v[start:])
}
