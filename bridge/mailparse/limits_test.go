package mailparse

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/rtbridge/rtbridge/event"
)

// mixed builds a multipart/mixed mail of the given parts (header and body
// each).
func mixed(parts ...string) []byte {
	var b strings.Builder
	b.WriteString("From: a@example.org\r\nSubject: s\r\nMessage-ID: <m@x>\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n")
	for _, p := range parts {
		b.WriteString("--b\r\n" + p + "\r\n")
	}
	b.WriteString("--b--\r\n")
	return []byte(b.String())
}

func hasProblem(ps []string, sub string) bool {
	return slices.ContainsFunc(ps, func(p string) bool { return strings.Contains(p, sub) })
}

func TestCapParts(t *testing.T) {
	var parts []string
	for i := range 50 {
		parts = append(parts, fmt.Sprintf("Content-Type: application/octet-stream; name=f%d.bin\r\n\r\ncontent %d", i, i))
	}
	raw := mixed(parts...)
	m, err := Options{MaxParts: 10}.Parse(bytesOpener(raw))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Attachments) != 10 || m.Attachments[9].Name != "f9.bin" {
		t.Errorf("attachments %d, want the first 10", len(m.Attachments))
	}
	if !slices.Equal(m.Capped, []string{CapParts}) || !hasProblem(m.ParseProblems, "more than 10 MIME parts") {
		t.Errorf("capped %q, problems %q", m.Capped, m.ParseProblems)
	}
	if m.RawSize != int64(len(raw)) {
		t.Errorf("RawSize %d of %d", m.RawSize, len(raw))
	}
	if m, _ := Parse(bytesOpener(raw)); len(m.Capped) != 0 || len(m.Attachments) != 50 {
		t.Errorf("defaults: capped %q, %d attachments", m.Capped, len(m.Attachments))
	}
}

func TestCapAttachments(t *testing.T) {
	parts := []string{"Content-Type: text/plain\r\n\r\nthe text"}
	for i := range 20 {
		parts = append(parts, fmt.Sprintf("Content-Type: image/png; name=i%d.png\r\n\r\npng %d", i, i))
	}
	m, err := Options{MaxAttachments: 5}.Parse(bytesOpener(mixed(parts...)))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Attachments) != 5 || m.Attachments[4].Name != "i4.png" || strings.TrimSpace(m.TextBody) != "the text" {
		t.Errorf("attachments %+v, text %q", m.Attachments, m.TextBody)
	}
	if !slices.Equal(m.Capped, []string{CapAttachments}) || !hasProblem(m.ParseProblems, "more than 5 attachments") {
		t.Errorf("capped %q, problems %q", m.Capped, m.ParseProblems)
	}
}

// The text is cut at the cap, never inside a character, and later text
// parts are left out; attachments after them still count.
func TestCapText(t *testing.T) {
	para := strings.Repeat("ä", 50) // 100 bytes
	raw := mixed("Content-Type: text/plain; charset=utf-8\r\n\r\n"+para,
		"Content-Type: text/plain; charset=utf-8\r\n\r\n"+para,
		"Content-Type: text/html; charset=utf-8\r\n\r\n<p>"+para+"</p>",
		"Content-Type: application/pdf; name=r.pdf\r\n\r\n%PDF")
	m, err := Options{MaxTextBytes: 151}.Parse(bytesOpener(raw))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(m.TextBody) + len(m.HTMLBody); n > 151 || n < 149 || !utf8.ValidString(m.TextBody) || m.HTMLBody != "" {
		t.Errorf("text %d bytes %q, html %q", len(m.TextBody), m.TextBody, m.HTMLBody)
	}
	if !strings.HasPrefix(m.TextBody, para+"\n") {
		t.Errorf("text %q: want the first part whole", m.TextBody)
	}
	if len(m.Attachments) != 1 || !slices.Equal(m.Capped, []string{CapTextBytes}) || !hasProblem(m.ParseProblems, "text longer than 151 bytes") {
		t.Errorf("attachments %+v, capped %q, problems %q", m.Attachments, m.Capped, m.ParseProblems)
	}
}

// A header block over the cap keeps the fields before it; the body still
// arrives.
func TestCapHeader(t *testing.T) {
	raw := "From: a@example.org\r\nSubject: kept\r\n" + strings.Repeat("X-Filler: 0123456789\r\n", 100) +
		"Message-ID: <late@x>\r\n\r\nthe body\r\n"
	m, err := Options{MaxHeaderBytes: 1000}.Parse(bytesOpener([]byte(raw)))
	if err != nil {
		t.Fatal(err)
	}
	if m.Subject != "kept" || m.MessageID != "" || strings.TrimSpace(m.TextBody) != "the body" {
		t.Errorf("subject %q, message id %q, text %q", m.Subject, m.MessageID, m.TextBody)
	}
	if !slices.Equal(m.Capped, []string{CapHeaderBytes}) || !hasProblem(m.ParseProblems, "header block larger than 1000 bytes") {
		t.Errorf("capped %q, problems %q", m.Capped, m.ParseProblems)
	}
}

func TestCapDepth(t *testing.T) {
	raw := "Content-Type: multipart/mixed; boundary=a\r\n\r\n--a\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n" +
		"--b\r\nContent-Type: multipart/mixed; boundary=c\r\n\r\n--c\r\n\r\ndeep\r\n--c--\r\n--b--\r\n--a--\r\n"
	m, err := Options{MaxDepth: 2}.Parse(bytesOpener([]byte(raw)))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Attachments) != 1 || !slices.Equal(m.Capped, []string{CapDepth}) {
		t.Fatalf("attachments %+v, capped %q", m.Attachments, m.Capped)
	}
	rc, _ := m.Attachments[0].Open()
	b, _ := io.ReadAll(rc)
	rc.Close()
	if !strings.Contains(string(b), "deep") {
		t.Errorf("inner multipart kept as %q", b)
	}
}

// A header folded over many lines is joined once, with single blanks.
func TestFoldedHeaderJoined(t *testing.T) {
	raw := "Subject: a\r\n" + strings.Repeat(" b\r\n\tc\r\n", 1000) + "\r\n"
	m, err := Parse(bytesOpener([]byte(raw)))
	if err != nil {
		t.Fatal(err)
	}
	if want := "a" + strings.Repeat(" b c", 1000); m.Subject != want {
		t.Errorf("subject %q…, want %q…", m.Subject[:20], want[:20])
	}
}

// countingOpener hands out seekable readers and counts the bytes read
// through them.
type countingOpener struct {
	raw  []byte
	read int64
}

func (c *countingOpener) open() (io.ReadCloser, error) {
	return &countedReader{Reader: bytes.NewReader(c.raw), n: &c.read}, nil
}

type countedReader struct {
	*bytes.Reader
	n *int64
}

func (r *countedReader) Read(p []byte) (int, error) {
	n, err := r.Reader.Read(p)
	*r.n += int64(n)
	return n, err
}

func (r *countedReader) Close() error { return nil }

// Attachment.Open on a seekable message reads only the part's own bytes,
// and a reader that cannot seek gives the same content.
func TestOpenReadsOnlyThePart(t *testing.T) {
	big := strings.Repeat("0123456789abcdef\r\n", 1<<16) // 1.1 MiB of text
	raw := mixed("Content-Type: application/octet-stream; name=big.bin\r\n\r\n"+big,
		"Content-Type: application/octet-stream; name=small.bin\r\nContent-Transfer-Encoding: base64\r\n\r\naGVsbG8=")
	co := &countingOpener{raw: raw}
	m, err := Parse(co.open)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := Parse(bytesOpener(raw))
	if err != nil {
		t.Fatal(err)
	}
	co.read = 0
	rc, err := m.Attachments[1].Open()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(rc)
	rc.Close()
	if string(b) != "hello" || co.read > 64 {
		t.Errorf("small part %q, read %d bytes of the message", b, co.read)
	}
	for i := range m.Attachments {
		a, p := readAttachment(t, m, i), readAttachment(t, plain, i)
		if a != p || int64(len(a)) != m.Attachments[i].Size {
			t.Errorf("attachment %d: seekable %d bytes, plain %d, Size %d", i, len(a), len(p), m.Attachments[i].Size)
		}
	}
}

func readAttachment(t *testing.T, m *event.Mail, i int) string {
	t.Helper()
	rc, err := m.Attachments[i].Open()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
