package mailparse

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"strings"
	"testing"
)

// bigMail is a mail with a text body and a base64 attachment of n bytes
// in 76-character lines, and the attachment.
func bigMail(n int) ([]byte, []byte) {
	data := make([]byte, n)
	for i := range data {
		data[i] = byte(i*7 + i>>8)
	}
	enc := base64.StdEncoding.EncodeToString(data)
	var b strings.Builder
	b.WriteString("From: a@example.org\r\nSubject: big\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhello\r\n" +
		"--b\r\nContent-Type: application/octet-stream; name=disk.img\r\nContent-Transfer-Encoding: base64\r\n\r\n")
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	b.WriteString(enc + "\r\n--b--\r\n")
	return []byte(b.String()), data
}

// BenchmarkParseAndOpen parses a mail with an 8 MiB attachment and streams
// the attachment out again, as the executor does. Allocations stay a few
// per part, not one per line: the parts are streamed through reused
// buffers, so neither the heap nor the GC sees the attachment's size.
func BenchmarkParseAndOpen(b *testing.B) {
	raw, data := bigMail(8 << 20)
	want := sha256.Sum256(data)
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		m, err := Parse(bytesOpener(raw))
		if err != nil {
			b.Fatal(err)
		}
		if len(m.Attachments) != 1 {
			b.Fatalf("attachments %+v", m.Attachments)
		}
		rc, err := m.Attachments[0].Open()
		if err != nil {
			b.Fatal(err)
		}
		h := sha256.New()
		io.Copy(h, rc)
		rc.Close()
		if !bytes.Equal(h.Sum(nil), want[:]) {
			b.Fatal("attachment differs")
		}
	}
}

// BenchmarkTextBody parses a mail whose 8 MiB text body is kept in memory
// (the largest MaxBodyBytes allows): read whole (about twice the body
// allocated while it grows), then copied once into the string rules see.
func BenchmarkTextBody(b *testing.B) {
	line := "lorem ipsum dolor sit amet, consectetur adipiscing elit\r\n"
	raw := []byte("From: a@example.org\r\nSubject: text\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" +
		strings.Repeat(line, (8<<20-4096)/len(line)))
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		m, err := Parse(bytesOpener(raw))
		if err != nil || len(m.TextBody) < 8<<20-8192 {
			b.Fatalf("%v, body %d bytes", err, len(m.TextBody))
		}
	}
}
