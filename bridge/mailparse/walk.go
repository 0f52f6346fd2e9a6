package mailparse

import (
	"bufio"
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
}

type frame struct {
	mp     *multipartReader
	digest bool // multipart/digest: parts default to message/rfc822
}

// walker iterates over the leaves of a message in document order. The order
// is deterministic, so a leaf's ordinal identifies it when the raw message is
// read again (Attachment.Open).
type walker struct {
	opts     Options
	br       *bufio.Reader
	root     header
	stack    []frame
	started  bool
	rootLeaf *entity // the root itself when it is not multipart
	problems []string
}

func newWalker(r io.Reader, o Options) *walker {
	return &walker{opts: o, br: bufio.NewReaderSize(r, 64<<10)}
}

// start reads the top-level header.
func (w *walker) start() error {
	h, leftover, probs, err := readHeader(w.br, w.opts.maxHeader())
	w.root = h
	w.problems = append(w.problems, probs...)
	if err != nil {
		return err
	}
	body := io.Reader(w.br)
	if len(leftover) > 0 {
		w.problems = append(w.problems, "message without header")
		body = io.MultiReader(bytes.NewReader(leftover), w.br)
	}
	w.rootLeaf = w.enter(h, body, "text/plain")
	w.started = true
	return nil
}

// enter classifies an entity: a multipart is pushed on the stack (nil is
// returned), anything else is returned as a leaf.
func (w *walker) enter(h header, body io.Reader, defaultType string) *entity {
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
		switch {
		case boundary == "":
			e.problems = append(e.problems, fmt.Sprintf("%s without boundary; body read as text", e.mediaType))
			e.mediaType = "text/plain"
		case len(w.stack) >= w.opts.maxDepth():
			e.problems = append(e.problems, "MIME nesting too deep; inner part kept as an attachment")
			e.mediaType = "application/octet-stream"
		default:
			w.problems = append(w.problems, e.problems...)
			mp := newMultipartReader(body, boundary, w.opts.maxBody())
			w.stack = append(w.stack, frame{mp: mp, digest: e.mediaType == "multipart/digest"})
			return nil
		}
	}
	dec, p := transferDecoder(h.get("Content-Transfer-Encoding"), body)
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
	for len(w.stack) > 0 {
		top := w.stack[len(w.stack)-1]
		pr, err := top.mp.next()
		if errors.Is(err, io.EOF) {
			w.stack = w.stack[:len(w.stack)-1]
			if e := w.finish(top.mp); e != nil {
				return e, nil
			}
			continue
		}
		if err != nil {
			return nil, err
		}
		br := bufio.NewReaderSize(pr, 16<<10)
		h, leftover, probs, err := readHeader(br, w.opts.maxHeader())
		if err != nil {
			return nil, err
		}
		body := io.Reader(br)
		if len(leftover) > 0 {
			body = io.MultiReader(bytes.NewReader(leftover), br)
		}
		def := "text/plain"
		if top.digest {
			def = "message/rfc822"
		}
		if e := w.enter(h, body, def); e != nil {
			e.problems = append(probs, e.problems...)
			return e, nil
		}
		w.problems = append(w.problems, probs...)
	}
	return nil, io.EOF
}

// finish notes how a multipart ended; a multipart without any delimiter
// yields its text as a plain leaf so nothing is dropped.
func (w *walker) finish(mp *multipartReader) *entity {
	if mp.parts == 0 {
		w.problems = append(w.problems, "multipart body without any part delimiter; body read as text")
		if len(bytes.TrimSpace(mp.preamble)) == 0 {
			return nil
		}
		return &entity{mediaType: "text/plain", params: map[string]string{}, body: bytes.NewReader(mp.preamble)}
	}
	if !mp.final {
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
