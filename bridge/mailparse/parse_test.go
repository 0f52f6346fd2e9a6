package mailparse

import (
	"bytes"
	"io"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func bytesOpener(b []byte) func() (io.ReadCloser, error) {
	return func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
}

const fixture = "From: =?UTF-8?Q?J=C3=BCrgen?= <jurgen@EXAMPLE.org>\r\n" +
	"To: a@example.org, broken <<@>, b@example.org\r\n" +
	"Subject: =?UTF-8?B?w6TDtsO8?= [rt.example.com #42]\r\n" +
	"Message-ID: <abc@example.org>\r\n" +
	"References: <r1@x> <r2@x>\r\n" +
	"Auto-Submitted: auto-replied\r\n" +
	"Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n" +
	"--b1\r\nContent-Type: multipart/alternative; boundary=b2\r\n\r\n" +
	"--b2\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nGr=FC=DFe\r\n" +
	"--b2\r\nContent-Type: text/html\r\n\r\n<p>hi</p>\r\n--b2--\r\n" +
	"--b1\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename*=UTF-8''%C3%A4rger.bin\r\nContent-Transfer-Encoding: base64\r\n\r\nAAEC!!Aw==\r\n" +
	"--b1\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner\r\n\r\nbody\r\n" +
	"--b1\r\nContent-Type: application/ms-tnef; name=winmail.dat\r\nContent-Transfer-Encoding: base64\r\n\r\neHl6\r\n" +
	"--b1--\r\n"

func TestParseFixture(t *testing.T) {
	m, err := Parse(bytesOpener([]byte(fixture)))
	if err != nil {
		t.Fatal(err)
	}
	if m.Subject != "äöü [rt.example.com #42]" || m.MessageID != "abc@example.org" || len(m.References) != 2 {
		t.Errorf("envelope: %q %q %v", m.Subject, m.MessageID, m.References)
	}
	if len(m.From) != 1 || m.From[0].Name != "Jürgen" || m.From[0].Address != "jurgen@example.org" {
		t.Errorf("From: %+v", m.From)
	}
	if len(m.To) != 2 || len(m.ParseProblems) == 0 {
		t.Errorf("To %+v problems %q: want the two good addresses and a problem", m.To, m.ParseProblems)
	}
	if strings.TrimSpace(m.TextBody) != "Grüße" || strings.TrimSpace(m.HTMLBody) != "<p>hi</p>" {
		t.Errorf("bodies: %q %q", m.TextBody, m.HTMLBody)
	}
	want := []struct {
		name, typ, content string
	}{{"ärger.bin", "application/octet-stream", "\x00\x01\x02\x03"}, {"inner.eml", "message/rfc822", "Subject: inner\r\n\r\nbody"}, {"winmail.dat", "application/ms-tnef", "xyz"}}
	if len(m.Attachments) != len(want) {
		t.Fatalf("attachments: %+v", m.Attachments)
	}
	for i, w := range want {
		a := m.Attachments[i]
		rc, err := a.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		if a.Name != w.name || a.ContentType != w.typ || string(b) != w.content || a.Size != int64(len(b)) {
			t.Errorf("attachment %d: %q %q %q size %d, want %+v", i, a.Name, a.ContentType, b, a.Size, w)
		}
	}
	loop, auto, reasons := Classify(m, []string{"rt.example.com"})
	if loop || !auto {
		t.Errorf("Classify: loop %v auto %v %v", loop, auto, reasons)
	}
	tags, err := NewSubjectTags([]string{"rt.example.com"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if id, ok := tags.Ticket(m.Subject); !ok || id != 42 {
		t.Errorf("subject tag: %d %v", id, ok)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(fixture))
	f.Add([]byte("Subject: x\n\nbody"))
	f.Add([]byte("Content-Type: multipart/mixed; boundary=x\n\n--x\n\n--x"))
	// The bombs, small: the fuzzer mutates the shapes that were costly.
	for _, bm := range bombs {
		f.Add(bm.gen(1500))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		m, err := Parse(bytesOpener(raw))
		if err != nil {
			t.Fatalf("Parse failed on readable bytes: %v", err)
		}
		if m.RawSize != int64(len(raw)) {
			t.Fatalf("RawSize %d, want %d", m.RawSize, len(raw))
		}
		for _, a := range m.Attachments {
			rc, err := a.Open()
			if err != nil {
				t.Fatal(err)
			}
			n, _ := io.Copy(io.Discard, rc)
			rc.Close()
			if n != a.Size {
				t.Fatalf("attachment %s: %d bytes, Size %d", a.Name, n, a.Size)
			}
		}
		checkCapped(t, raw)
	})
}

// checkCapped parses raw under tight caps: the caps hold, and a seekable
// message opens to the same content as one read from the start.
func checkCapped(t *testing.T, raw []byte) {
	o := Options{MaxHeaderBytes: 300, MaxDepth: 3, MaxParts: 6, MaxAttachments: 3, MaxTextBytes: 200, MaxBodyBytes: 150}
	m, err := o.Parse(seekOpener(raw))
	if err != nil {
		t.Fatalf("Parse failed on readable bytes: %v", err)
	}
	plain, err := o.Parse(bytesOpener(raw))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Attachments) > 3 || len(m.TextBody)+len(m.HTMLBody) > 200 || m.RawSize != int64(len(raw)) {
		t.Fatalf("over the caps: %d attachments, %d bytes of text, RawSize %d", len(m.Attachments), len(m.TextBody)+len(m.HTMLBody), m.RawSize)
	}
	if !utf8.ValidString(m.TextBody) || !utf8.ValidString(m.HTMLBody) {
		t.Fatalf("text not UTF-8: %q %q", m.TextBody, m.HTMLBody)
	}
	if m.TextBody != plain.TextBody || len(m.Attachments) != len(plain.Attachments) || !slices.Equal(m.Capped, plain.Capped) {
		t.Fatalf("seekable and plain differ")
	}
	for i, a := range m.Attachments {
		if got, want := readAttachment(t, m, i), readAttachment(t, plain, i); got != want || int64(len(got)) != a.Size {
			t.Fatalf("attachment %d: %d bytes from a seekable message, %d from a plain one, Size %d", i, len(got), len(want), a.Size)
		}
	}
}
