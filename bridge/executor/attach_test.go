package executor

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/rtbridge/rtbridge/bridge/source"
	"github.com/rtbridge/rtbridge/event"
	"github.com/rtbridge/rtbridge/rtapi"
)

func opener(b []byte) func() (io.ReadCloser, error) {
	return func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
}

func TestSendType(t *testing.T) {
	late8bit := append(bytes.Repeat([]byte("a"), 100<<10), 0xff) // past any head-only scan
	for _, c := range []struct {
		ctype string
		data  []byte
		want  string
	}{
		{"image/png", []byte{0, 1, 2, 0xff}, "image/png"},
		{"text/plain", []byte("Grüße\r\n"), "text/plain"},
		{"text/plain", []byte("Gr\xfc\xdfe\r\n"), "text/plain"}, // Latin-1: RT's guess maps it back
		{"text/plain", []byte("GIF89a\x01\x02"), octetStream},
		{"text/csv", append(bytes.Repeat([]byte("x"), 20<<10), 0x02), octetStream},
		{"message/rfc822", []byte("Subject: x\r\n\r\nbody\r\n"), "message/rfc822"},
		{"message/rfc822", []byte("Subject: x\r\n\r\nbody \xe9\r\n"), octetStream},
		{"message/rfc822", late8bit, octetStream},
		{"Message/RFC822", []byte("Subject: x\r\n\r\n\xff"), octetStream},
	} {
		if got := sendType(c.ctype, opener(c.data)); got != c.want {
			t.Errorf("sendType(%q, %q…) = %q, want %q", c.ctype, c.data[:min(len(c.data), 20)], got, c.want)
		}
	}
}

// eightBit is NUL-free binary content: every byte value but 0, with the
// 0xff, 0xfe and 0x80 that RT's text conversion loses.
func eightBit(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i%255 + 1)
	}
	return append(b, 0xff, 0xfe, 0x80)
}

func wrap76(s string) string {
	var b strings.Builder
	for len(s) > 76 {
		b.WriteString(s[:76] + "\r\n")
		s = s[76:]
	}
	return b.String() + s + "\r\n"
}

// TestBytesKeptInRT sends a mail that cannot be fully parsed (so the raw
// mail goes along as original.eml) with 8-bit bytes in its body, a
// forwarded message with 8-bit bytes, a 7-bit forwarded message, a
// Latin-1 text file and binary bytes declared text/plain, and reads every
// part back through RT's /content byte for byte.
func TestBytesKeptInRT(t *testing.T) {
	c := rtClient(t)
	h := newHarness(t)
	marker := fmt.Sprintf("rtbridge bytes %d", time.Now().UnixNano())
	h.setRules(compile(t, fmt.Sprintf(`
- name: bytes
  when: { kind: mail }
  do: [ { create: { queue: General, subject: %q, attachments: all } } ]
`, marker)))
	fwd8 := []byte("From: vendor@example.net\r\nSubject: fwd8\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: 8bit\r\n\r\nPreis: 5 \xa4, Gr\xfc\xdfe \xff\xfe\x80\r\n")
	fwd7 := []byte("From: vendor@example.net\r\nSubject: fwd7\r\n\r\nplain ascii\r\n")
	latin1 := []byte("Gr\xfc\xdfe aus K\xf6ln\r\n")
	bin := eightBit(3000)
	raw := []byte("From: eve@example.com\r\nTo: support@example.com\r\nSubject: bytes\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n" +
		"--b\r\nContent-Type: text/plain; charset=x-no-such-charset\r\nContent-Transfer-Encoding: 8bit\r\n\r\nbody \xff\xfe\x80 text\r\n" +
		"--b\r\nContent-Type: message/rfc822\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" + string(fwd8) +
		"--b\r\nContent-Type: message/rfc822\r\n\r\n" + string(fwd7) +
		"--b\r\nContent-Type: text/plain; name=\"notes.txt\"\r\nContent-Disposition: attachment; filename=\"notes.txt\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" + wrap76(base64.StdEncoding.EncodeToString(latin1)) +
		"--b\r\nContent-Type: text/plain; name=\"bin.txt\"\r\nContent-Disposition: attachment; filename=\"bin.txt\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" + wrap76(base64.StdEncoding.EncodeToString(bin)) +
		"--b--\r\n")
	acc, err := h.st.Accept(context.Background(), source.Incoming{Source: "box", Kind: event.KindMail, Raw: bytes.NewReader(raw)})
	if err != nil {
		t.Fatal(err)
	}
	h.runUntil(h.executor(c, "", 1), acc.ID)
	e := h.event(acc.ID)
	if e.State != "done" || len(e.Steps) != 1 || e.Steps[0].Ticket == 0 {
		t.Fatalf("event %s %s %+v", e.State, e.Reason, e.Steps)
	}
	id := e.Steps[0].Ticket
	want := map[string]struct {
		data  []byte
		ctype string
	}{
		"original.eml": {raw, octetStream},
		// The CRLF before a boundary belongs to the boundary.
		"fwd8.eml":  {fwd8[:len(fwd8)-2], octetStream},
		"fwd7.eml":  {fwd7[:len(fwd7)-2], "message/rfc822"},
		"notes.txt": {latin1, "text/plain"},
		"bin.txt":   {bin, octetStream},
	}
	atts, err := c.Attachments(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, a := range atts {
		w, ok := want[a.Name]
		if !ok {
			continue
		}
		seen[a.Name] = true
		got, ct := content(t, c, id, a.ID)
		if !bytes.Equal(got, w.data) {
			t.Errorf("%s: RT gives back %d bytes, sent %d; differ", a.Name, len(got), len(w.data))
		}
		if !strings.HasPrefix(ct, w.ctype) {
			t.Errorf("%s: stored as %q, want %s", a.Name, ct, w.ctype)
		}
	}
	for name := range want {
		if !seen[name] {
			t.Errorf("ticket %d has no %s: %+v", id, name, atts)
		}
	}
	t.Logf("ticket %d: original.eml %d bytes, fwd8.eml %d bytes, bin.txt %d bytes, all identical through /content", id, len(raw), len(fwd8), len(bin))
}

func content(t *testing.T, c *rtapi.Client, ticket, aid int) ([]byte, string) {
	t.Helper()
	ct, body, err := c.AttachmentContent(context.Background(), ticket, aid)
	if err != nil {
		t.Fatal(err)
	}
	defer body.Close()
	b, err := io.ReadAll(body)
	if err != nil {
		t.Fatal(err)
	}
	return b, ct
}
