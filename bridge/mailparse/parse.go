// Package mailparse turns a raw e-mail message into the event.Mail the rules
// engine sees. It streams the message: bodies are read (bounded), while
// attachments are only counted and described; Attachment.Open reads the raw
// message again and decodes just that part, so a 50 MB mail never sits in
// memory.
//
// Parsing is lenient and never loses anything: whatever cannot be understood
// is listed in Mail.ParseProblems (the executor then attaches the raw
// message), and Parse fails only when the raw bytes cannot be read.
package mailparse

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/textproto"
	"path"
	"strings"

	"github.com/rtbridge/rtbridge/event"
)

// Options tune parsing; the zero value is ready to use.
type Options struct {
	// MaxBodyBytes bounds a text or HTML body kept in memory (default
	// 8 MiB). A larger body part becomes an attachment instead.
	MaxBodyBytes int
	// MaxHeaderBytes bounds a header block (default 1 MiB).
	MaxHeaderBytes int
	// MaxDepth bounds multipart nesting (default 32).
	MaxDepth int
}

func (o Options) maxBody() int   { return orDefault(o.MaxBodyBytes, 8<<20) }
func (o Options) maxHeader() int { return orDefault(o.MaxHeaderBytes, 1<<20) }
func (o Options) maxDepth() int  { return orDefault(o.MaxDepth, 32) }

func orDefault(v, d int) int {
	if v <= 0 {
		return d
	}
	return v
}

// Parse parses the message that open returns, with default Options.
func Parse(open func() (io.ReadCloser, error)) (*event.Mail, error) {
	return Options{}.Parse(open)
}

// Parse parses the message that open returns. open is kept as Mail.Raw and
// called again by Attachment.Open, so it must return the same bytes each
// time (the stored raw file).
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
	for idx := 0; ; idx++ {
		e, err := w.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("mailparse: read raw message: %w", err)
		}
		if err := o.leaf(m, e, idx, open, &problems); err != nil {
			return nil, fmt.Errorf("mailparse: read raw message: %w", err)
		}
		problems = append(problems, e.problems...)
	}
	// Count what follows the last part (epilogue) for RawSize.
	if _, err := io.Copy(io.Discard, cr); err != nil {
		return nil, fmt.Errorf("mailparse: read raw message: %w", err)
	}
	m.RawSize = cr.n
	problems = append(problems, w.problems...)
	m.ParseProblems = dedupe(problems)
	return m, nil
}

// leaf files one leaf as text body, HTML body or attachment.
func (o Options) leaf(m *event.Mail, e *entity, idx int, open func() (io.ReadCloser, error), problems *[]string) error {
	name := fileName(e)
	isBody := e.disp != "attachment" && name == "" &&
		(e.mediaType == "text/plain" || e.mediaType == "text/html")
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
			if e.mediaType == "text/plain" {
				m.TextBody = appendBody(m.TextBody, text)
			} else {
				m.HTMLBody = appendBody(m.HTMLBody, text)
			}
			return nil
		}
		*problems = append(*problems, fmt.Sprintf("%s body larger than %d bytes; kept as an attachment", e.mediaType, o.maxBody()))
		e.body = io.MultiReader(bytes.NewReader(buf), e.body) // no copy of up to MaxBodyBytes
	}
	a := event.Attachment{
		ContentType: e.mediaType,
		Inline:      e.disp == "inline" || (e.disp == "" && e.hdr.has("Content-Id")),
		ContentID:   strings.Trim(strings.TrimSpace(e.hdr.get("Content-Id")), "<>"),
	}
	cr := &countingReader{r: e.body}
	if e.mediaType == "message/rfc822" && name == "" {
		// Name a forwarded message after its subject.
		br := bufio.NewReader(cr)
		h, _, _, err := readHeader(br, o.maxHeader())
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
	a.Open = func() (io.ReadCloser, error) { return o.openLeaf(open, idx) }
	m.Attachments = append(m.Attachments, a)
	return nil
}

// openLeaf re-reads the raw message and returns the decoded content of leaf
// idx.
func (o Options) openLeaf(open func() (io.ReadCloser, error), idx int) (io.ReadCloser, error) {
	rc, err := open()
	if err != nil {
		return nil, fmt.Errorf("mailparse: open raw message: %w", err)
	}
	w := newWalker(&countingReader{r: rc}, o)
	for i := 0; ; i++ {
		e, err := w.next()
		if err != nil {
			rc.Close()
			if err == io.EOF {
				return nil, fmt.Errorf("mailparse: part %d not found in raw message", idx)
			}
			return nil, fmt.Errorf("mailparse: read raw message: %w", err)
		}
		if i == idx {
			return partCloser{Reader: e.body, c: rc}, nil
		}
		if _, err := io.Copy(io.Discard, e.body); err != nil {
			rc.Close()
			return nil, fmt.Errorf("mailparse: read raw message: %w", err)
		}
	}
}

type partCloser struct {
	io.Reader
	c io.Closer
}

func (p partCloser) Close() error { return p.c.Close() }

func appendBody(have, more string) string {
	if have == "" {
		return more
	}
	if !strings.HasSuffix(have, "\n") {
		have += "\n"
	}
	return have + more
}

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
func canonicalHeader(h header) textproto.MIMEHeader {
	out := make(textproto.MIMEHeader, len(h))
	for _, f := range h {
		out[f.Key] = append(out[f.Key], decodeHeader(f.Value))
	}
	return out
}
