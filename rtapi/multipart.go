package rtapi

import (
	"cmp"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
	"unicode"
)

// multipartBody streams a multipart/form-data request: the body parameters
// ("content" first) and then one part attachment_i per attachment, read from
// Attachment.Open through an io.Pipe, so a 50 MB file never sits in memory.
// Each attempt (and net/http's GetBody on a replay) opens the files again.
type multipartBody struct {
	params   []param
	atts     []Attachment
	boundary string
	size     int64 // -1: unknown; 0: not measured yet
}

// attachmentError is a local failure to read an attachment: bad input, not
// a network problem, and RT has seen nothing complete.
type attachmentError struct {
	name string
	err  error
}

func (e *attachmentError) Error() string {
	return fmt.Sprintf("attachment %q: %v", e.name, e.err)
}
func (e *attachmentError) Unwrap() error { return e.err }

func newMultipartBody(params []param, atts []Attachment) *multipartBody {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return &multipartBody{params: params, atts: atts, boundary: "rtbridge-" + hex.EncodeToString(b[:])}
}

// attach sets req's body, GetBody, Content-Type and (when every attachment's
// size is known without reading it) Content-Length; otherwise the body goes
// chunked, which RT's Starlet, Apache and nginx accept.
func (m *multipartBody) attach(req *http.Request) error {
	for i, a := range m.atts {
		if a.Open == nil {
			return &attachmentError{name: a.Name, err: fmt.Errorf("attachment %d has no Open function", i+1)}
		}
	}
	if m.size == 0 {
		// Measured once per call, not per attempt.
		n, err := m.length()
		if err != nil {
			return err
		}
		m.size = n
	}
	n := m.size
	req.Body = m.open()
	req.GetBody = func() (io.ReadCloser, error) { return m.open(), nil }
	req.ContentLength = n
	if n == 0 {
		// 0 would mean "no body" to net/http; -1 means unknown (chunked).
		req.ContentLength = -1
	}
	req.Header.Set("Content-Type", "multipart/form-data; boundary="+m.boundary)
	return nil
}

// open starts a goroutine writing the body into a pipe. If the transport
// stops reading (an error, a cancelled context) it closes the reader, the
// next write fails and the goroutine ends.
func (m *multipartBody) open() io.ReadCloser {
	pr, pw := io.Pipe()
	go func() {
		pw.CloseWithError(m.write(pw, true))
	}()
	return pr
}

// write writes the whole body; with files=false it writes empty parts (used
// to measure the framing).
func (m *multipartBody) write(w io.Writer, files bool) error {
	mw := multipart.NewWriter(w)
	if err := mw.SetBoundary(m.boundary); err != nil {
		return err
	}
	for _, p := range m.params {
		// A filename-less part: RT reads it as a plain parameter. Form
		// text is sent raw (not percent-encoded), LF line ends.
		fw, err := mw.CreateFormField(p.key)
		if err != nil {
			return err
		}
		if _, err := io.WriteString(fw, p.value); err != nil {
			return err
		}
	}
	for i, a := range m.atts {
		pw, err := mw.CreatePart(partHeader(i, a))
		if err != nil {
			return err
		}
		if !files {
			continue
		}
		if err := copyAttachment(pw, a); err != nil {
			return err
		}
	}
	return mw.Close()
}

func copyAttachment(w io.Writer, a Attachment) error {
	rc, err := a.Open()
	if err != nil {
		return &attachmentError{name: a.Name, err: err}
	}
	defer rc.Close()
	_, err = io.Copy(w, taggedReader{rc, a.Name})
	return err
}

// taggedReader marks read errors as the attachment's own (bad input), so they
// stay distinguishable from write errors (the transport went away). It also
// hides WriterTo, so io.Copy uses its bounded 32 KiB buffer.
type taggedReader struct {
	r    io.Reader
	name string
}

func (t taggedReader) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if err != nil && err != io.EOF {
		err = &attachmentError{name: t.name, err: err}
	}
	return n, err
}

// partHeader is the MIME header of attachment part i. RT takes the stored
// file name from the form's Attachment: list, and the MIME type from this
// part's Content-Type (it guesses from a temp file name otherwise).
func partHeader(i int, a Attachment) textproto.MIMEHeader {
	h := textproto.MIMEHeader{}
	name := attachmentName(a.Name, i)
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="attachment_%d"; filename="%s"`, i+1, quoteEscape(name)))
	h.Set("Content-Type", a.MIMEType())
	return h
}

// MIMEType is the attachment's ContentType, or application/octet-stream
// when that is empty or holds a control character other than tab: a CR or
// LF would end the part's header line and let the rest add headers.
func (a Attachment) MIMEType() string {
	if a.ContentType == "" || strings.ContainsFunc(a.ContentType, func(r rune) bool { return r != '\t' && unicode.IsControl(r) }) {
		return "application/octet-stream"
	}
	return a.ContentType
}

func quoteEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s)
}

// attachmentName makes a name safe for RT's Attachment: list, which RT splits
// on commas and line ends, keeps quotes of, and cuts at the last / or \:
// those characters and control characters become "_", surrounding blanks are
// trimmed, and an empty name becomes "attachment-<i>". UTF-8 is kept.
func attachmentName(name string, i int) string {
	name = strings.Map(func(r rune) rune {
		switch {
		case r == ',' || r == '/' || r == '\\' || r == '"' || r == '\'' || unicode.IsControl(r) || r == 0x2028 || r == 0x2029:
			return '_'
		}
		return r
	}, name)
	name = strings.TrimFunc(name, unicode.IsSpace)
	if strings.HasPrefix(name, "q{") {
		name = "q_" + name[2:]
	}
	return cmp.Or(name, "attachment-"+strconv.Itoa(i+1))
}

// length returns the body size when every attachment's size is known from
// Stat, Len or Seek, else -1. Files are opened once for this and closed.
func (m *multipartBody) length() (int64, error) {
	total := int64(0)
	for _, a := range m.atts {
		n, err := attachmentSize(a)
		if err != nil {
			return 0, err
		}
		if n < 0 {
			return -1, nil
		}
		total += n
	}
	var cw countWriter
	if err := m.write(&cw, false); err != nil {
		return 0, err
	}
	return total + cw.n, nil
}

func attachmentSize(a Attachment) (int64, error) {
	if a.Size > 0 || a.SizeKnown {
		return a.Size, nil
	}
	rc, err := a.Open()
	if err != nil {
		return 0, &attachmentError{name: a.Name, err: err}
	}
	defer rc.Close()
	switch v := rc.(type) {
	case interface{ Stat() (fs.FileInfo, error) }:
		if fi, err := v.Stat(); err == nil && fi.Mode().IsRegular() {
			return fi.Size(), nil
		}
	case interface{ Len() int }:
		return int64(v.Len()), nil
	case io.Seeker:
		if n, err := v.Seek(0, io.SeekEnd); err == nil {
			return n, nil
		}
	}
	return -1, nil
}

type countWriter struct{ n int64 }

func (w *countWriter) Write(p []byte) (int, error) {
	w.n += int64(len(p))
	return len(p), nil
}
