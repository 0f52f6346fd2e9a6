// Package mailparse turns a raw e-mail message into the event.Mail the rules
// engine sees. It streams the message once: bodies are read (bounded),
// while attachments are only counted and described with their place in the
// message; Attachment.Open reads that byte range of the raw message again
// and decodes it, so a 50 MB mail never sits in memory. The work is linear
// in the size of the message and bounded by Options.
//
// Parsing is lenient and never loses anything: whatever cannot be understood
// or lies beyond a limit is listed in Mail.ParseProblems (the executor then
// attaches the raw message), and Parse fails only when the raw bytes cannot
// be read.
package mailparse

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"net/textproto"
	"path"
	"strings"

	"github.com/rtbridge/rtbridge/event"
)

// Parse parses the message that open returns, with default Options.
func Parse(open func() (io.ReadCloser, error)) (*event.Mail, error) {
	return Options{}.Parse(open)
}

// Parse parses the message that open returns. open is kept as Mail.Raw and
// called again by Attachment.Open, so it must return the same bytes each
// time (the stored raw file). The message is read once; the work is linear
// in its size and bounded by the Max options.
func (o Options) Parse(open func() (io.ReadCloser, error)) (*event.Mail, error) {
	rc, err := open()
	if err != nil {
		return nil, fmt.Errorf("mailparse: open raw message: %w", err)
	}
	defer rc.Close()
	cr := &countingReader{r: rc}
	w := newWalker(cr, o)
	if err := w.start(); err != nil {
		return nil, fmt.Errorf("mailparse: read raw message: %w", err)
	}
	m := &event.Mail{Raw: open}
	var problems []string
	fillHeader(m, w.root, &problems)
	b := &bodies{budget: o.maxText()}
	for idx := 0; ; idx++ {
		e, err := w.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("mailparse: read raw message: %w", err)
		}
		if err := o.leaf(m, b, e, idx, open, &problems); err != nil {
			return nil, fmt.Errorf("mailparse: read raw message: %w", err)
		}
		problems = append(problems, e.problems...)
	}
	m.TextBody, m.HTMLBody = b.text.String(), b.html.String()
	if b.full() {
		w.capped[CapTextBytes] = true
		problems = append(problems, b.problem())
	}
	if b.moreAtts {
		w.capped[CapAttachments] = true
		problems = append(problems, fmt.Sprintf("more than %d attachments: only the first %d are listed; the others are in the original message", o.maxAttachments(), o.maxAttachments()))
	}
	// Count what follows the last part (epilogue) for RawSize.
	if _, err := io.Copy(io.Discard, cr); err != nil {
		return nil, fmt.Errorf("mailparse: read raw message: %w", err)
	}
	m.RawSize = cr.n
	problems = append(problems, w.problems...)
	m.ParseProblems = dedupe(problems)
	for _, c := range []string{CapHeaderBytes, CapDepth, CapParts, CapAttachments, CapTextBytes} {
		if w.capped[c] {
			m.Capped = append(m.Capped, c)
		}
	}
	return m, nil
}

// leaf files one leaf as text body, HTML body or attachment.
func (o Options) leaf(m *event.Mail, b *bodies, e *entity, idx int, open func() (io.ReadCloser, error), problems *[]string) error {
	name := fileName(e)
	isBody := e.disp != "attachment" && name == "" &&
		(e.mediaType == "text/plain" || e.mediaType == "text/html")
	if isBody && b.full() {
		return nil // over MaxTextBytes: the rest of the text stays in the raw message
	}
	if isBody {
		buf, err := io.ReadAll(io.LimitReader(e.body, int64(o.maxBody())+1))
		if err != nil {
			return err
		}
		if len(buf) <= o.maxBody() {
			text, p := decodeText(buf, e.params["charset"])
			if p != "" {
				*problems = append(*problems, p)
			}
			b.add(e.mediaType == "text/html", text)
			return nil
		}
		*problems = append(*problems, fmt.Sprintf("%s body larger than %d bytes; kept as an attachment", e.mediaType, o.maxBody()))
		e.body = io.MultiReader(bytes.NewReader(buf), e.body) // no copy of up to MaxBodyBytes
	}
	if len(m.Attachments) >= o.maxAttachments() {
		b.moreAtts = true // over MaxAttachments: left in the raw message
		return nil
	}
	a := event.Attachment{
		ContentType: e.mediaType,
		Inline:      e.disp == "inline" || (e.disp == "" && e.hdr.has("Content-Id")),
		ContentID:   strings.Trim(strings.TrimSpace(e.hdr.get("Content-Id")), "<>"),
	}
	cr := &countingReader{r: e.body}
	if e.mediaType == "message/rfc822" && name == "" {
		// Name a forwarded message after its subject.
		br := bufio.NewReaderSize(cr, 1024) // small: a digest has a thousand of these
		h, _, _, _, err := readHeader(bufLines{br}, o.maxHeader())
		if err != nil {
			return err
		}
		name = safeName(decodeHeader(h.get("Subject")))
		if _, err := io.Copy(io.Discard, br); err != nil {
			return err
		}
	} else if _, err := io.Copy(io.Discard, cr); err != nil {
		return err
	}
	a.Size = cr.n
	a.Name = attachmentName(name, e.mediaType, idx)
	loc := e.loc
	a.Open = func() (io.ReadCloser, error) { return openPart(open, loc) }
	m.Attachments = append(m.Attachments, a)
	return nil
}

// openPart opens the raw message again and returns the decoded content of
// the leaf at loc, reading only its range: a reader that can Seek or
// ReadAt (a stored file) starts there at once, any other skips to it.
func openPart(open func() (io.ReadCloser, error), loc *partLoc) (io.ReadCloser, error) {
	if loc.mem != nil {
		return io.NopCloser(bytes.NewReader(loc.mem)), nil
	}
	rc, err := open()
	if err != nil {
		return nil, fmt.Errorf("mailparse: open raw message: %w", err)
	}
	r, err := seekTo(rc, loc.start)
	if err != nil {
		rc.Close()
		return nil, fmt.Errorf("mailparse: read raw message: %w", err)
	}
	if loc.end >= 0 {
		r = io.LimitReader(r, loc.end-loc.start)
	}
	dec, _ := transferDecoder(loc.cte, &countingReader{r: r})
	return partCloser{Reader: &decodeGuard{r: dec, e: &entity{}}, c: rc}, nil
}

// seekTo positions r at off.
func seekTo(r io.Reader, off int64) (io.Reader, error) {
	if off == 0 {
		return r, nil
	}
	if sk, ok := r.(io.Seeker); ok {
		if _, err := sk.Seek(off, io.SeekStart); err == nil {
			return r, nil
		}
	}
	if ra, ok := r.(io.ReaderAt); ok {
		return io.NewSectionReader(ra, off, math.MaxInt64-off), nil
	}
	n, err := io.CopyN(io.Discard, r, off)
	if err != nil && n < off {
		return nil, fmt.Errorf("part at offset %d: %w", off, err)
	}
	return r, nil
}

type partCloser struct {
	io.Reader
	c io.Closer
}

func (p partCloser) Close() error { return p.c.Close() }

// fileName is the decoded file name the sender gave the part, if any.
func fileName(e *entity) string {
	n := e.dparams["filename"]
	if n == "" {
		n = e.params["name"]
	}
	if n == "" {
		return ""
	}
	return safeName(decodeHeader(n))
}

// safeName keeps only the last path element and no control characters.
func safeName(n string) string {
	n = oneLine(n)
	n = strings.ReplaceAll(n, "\\", "/")
	n = path.Base(n)
	if n == "." || n == "/" || n == ".." {
		return ""
	}
	if len(n) > 200 {
		n = n[:200]
	}
	return strings.ToValidUTF8(n, "")
}

// attachmentName returns name, or one generated from the type and position.
func attachmentName(name, mediaType string, idx int) string {
	if mediaType == "message/rfc822" {
		if name == "" {
			name = fmt.Sprintf("message-%d", idx+1)
		}
		if !strings.HasSuffix(strings.ToLower(name), ".eml") {
			name += ".eml"
		}
		return name
	}
	if name != "" {
		return name
	}
	return fmt.Sprintf("part-%d%s", idx+1, extension(mediaType))
}

func extension(mediaType string) string {
	switch mediaType {
	case "text/plain":
		return ".txt"
	case "text/html":
		return ".html"
	case "text/calendar":
		return ".ics"
	case "image/png":
		return ".png"
	case "image/jpeg":
		return ".jpg"
	case "image/gif":
		return ".gif"
	case "application/pdf":
		return ".pdf"
	case "application/ms-tnef":
		return ".dat"
	case "message/delivery-status":
		return ".txt"
	case "text/rfc822-headers":
		return ".txt"
	}
	return ".bin"
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if err != nil && !errors.Is(err, io.EOF) {
		err = rawError{err}
	}
	return n, err
}

func dedupe(ps []string) []string {
	seen := make(map[string]bool, len(ps))
	var out []string
	for _, p := range ps {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}

// canonicalHeader converts the root header into the decoded MIMEHeader.
// All values share one backing array, each key's values a window of it
// (capped, so an append by a reader cannot overwrite the next key's): a
// header of many thousand fields costs two allocations, not a growing slice
// per key.
func canonicalHeader(h header) textproto.MIMEHeader {
	count := make(map[string]int, min(len(h), 64))
	for _, f := range h {
		count[f.Key]++
	}
	all := make([]string, 0, len(h))
	out := make(textproto.MIMEHeader, len(count))
	for _, f := range h {
		vs, ok := out[f.Key]
		if !ok {
			n := len(all)
			all = all[:n+count[f.Key]]
			vs = all[n:n:len(all)]
		}
		out[f.Key] = append(vs, decodeHeader(f.Value))
	}
	return out
}
