package mailparse

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"strings"
)

// A bomb is a hostile mail of about n bytes, built in code so no large file
// sits in the repository. The benchmarks compare each with benignMail of the
// same size; FuzzParse starts from small ones.
type bomb struct {
	name string
	gen  func(n int) []byte
}

const bombHead = "From: a@example.org\r\nTo: b@example.org\r\nSubject: bomb\r\n" +
	"Message-ID: <bomb@example.org>\r\nMIME-Version: 1.0\r\n"

// fill repeats unit until b holds about n bytes.
func fill(b *bytes.Buffer, n int, unit string) {
	for b.Len()+len(unit) <= n {
		b.WriteString(unit)
	}
}

// benignMail is the reference: a short text and one base64 attachment that
// makes up the rest of n.
func benignMail(n int) []byte {
	var b bytes.Buffer
	b.WriteString(bombHead + "Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n" +
		"--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n")
	b.WriteString(strings.Repeat("Hello, the report is attached. Regards, A.\r\n", 40))
	b.WriteString("--b\r\nContent-Type: application/pdf; name=\"report.pdf\"\r\n" +
		"Content-Disposition: attachment; filename=\"report.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n")
	data := make([]byte, max(0, (n-b.Len()-16)*57/78))
	for i := range data {
		data[i] = byte(i*7 + i>>9)
	}
	enc := base64.StdEncoding.EncodeToString(data)
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	b.WriteString(enc + "\r\n--b--\r\n")
	return b.Bytes()
}

// multipart wraps body lines in a multipart/mixed header with boundary b.
func multipartHead(boundary string) string {
	return bombHead + "Content-Type: multipart/mixed; boundary=\"" + boundary + "\"\r\n\r\n"
}

var bombs = []bomb{
	// One header folded over hundreds of thousands of short lines.
	{"folded-subject", func(n int) []byte {
		var b bytes.Buffer
		b.WriteString("From: a@example.org\r\nSubject: x\r\n")
		fill(&b, n-16, " x\r\n")
		b.WriteString("\r\nbody\r\n")
		return b.Bytes()
	}},
	// An address header folded over many lines, one address each.
	{"folded-to", func(n int) []byte {
		var b bytes.Buffer
		b.WriteString("From: a@example.org\r\nSubject: x\r\nTo: a@example.org")
		fill(&b, n-16, ",\r\n b@example.org")
		b.WriteString("\r\n\r\nbody\r\n")
		return b.Bytes()
	}},
	// References folded over many lines (read for threading).
	{"folded-references", func(n int) []byte {
		var b bytes.Buffer
		b.WriteString("From: a@example.org\r\nSubject: x\r\nReferences: <a@x>")
		fill(&b, n-16, "\r\n <r@x>")
		b.WriteString("\r\n\r\nbody\r\n")
		return b.Bytes()
	}},
	// A message that is all header: no blank line ever comes.
	{"no-blank-line", func(n int) []byte {
		var b bytes.Buffer
		b.WriteString(bombHead)
		fill(&b, n, "X-Filler: some value that goes on a bit\r\n")
		return b.Bytes()
	}},
	// Hundreds of thousands of tiny header fields, then a body.
	{"many-headers", func(n int) []byte {
		var b bytes.Buffer
		b.WriteString(bombHead)
		fill(&b, n-10, "A: b\r\n")
		b.WriteString("\r\nbody\r\n")
		return b.Bytes()
	}},
	// Many distinct field names (each its own key in Mail.Header).
	{"many-header-names", func(n int) []byte {
		var b bytes.Buffer
		b.WriteString(bombHead)
		for i := 0; b.Len() < n-24; i++ {
			fmt.Fprintf(&b, "X-%d: v\r\n", i)
		}
		b.WriteString("\r\nbody\r\n")
		return b.Bytes()
	}},
	// One header line without any line end, to the end of the message.
	{"long-header-line", func(n int) []byte {
		var b bytes.Buffer
		b.WriteString("From: a@example.org\r\nSubject: ")
		fill(&b, n, "xxxxxxxxxxxxxxxx")
		return b.Bytes()
	}},
	// A text body that is one line without a line end.
	{"long-body-line", func(n int) []byte {
		var b bytes.Buffer
		b.WriteString(bombHead + "Content-Type: text/plain\r\n\r\n")
		fill(&b, n, "yyyyyyyyyyyyyyyy")
		return b.Bytes()
	}},
	// The same inside a multipart (the part reader sees one endless line).
	{"long-part-line", func(n int) []byte {
		var b bytes.Buffer
		b.WriteString(multipartHead("b") + "--b\r\nContent-Type: application/octet-stream\r\n\r\n")
		fill(&b, n-10, "zzzzzzzzzzzzzzzz")
		b.WriteString("\r\n--b--\r\n")
		return b.Bytes()
	}},
	// 1 KB text/plain parts: every one is appended to the body.
	{"small-text-parts", func(n int) []byte {
		var b bytes.Buffer
		b.WriteString(multipartHead("b"))
		fill(&b, n-10, "--b\r\nContent-Type: text/plain\r\n\r\n"+strings.Repeat("0123456789abcdef012345678901234\r\n", 30))
		b.WriteString("--b--\r\n")
		return b.Bytes()
	}},
	// Empty parts without header: the cheapest part there is.
	{"empty-parts", func(n int) []byte {
		var b bytes.Buffer
		b.WriteString(multipartHead("b"))
		fill(&b, n-10, "--b\r\n\r\n")
		b.WriteString("--b--\r\n")
		return b.Bytes()
	}},
	// Empty attachments: every one is opened again by the executor.
	{"empty-attachments", func(n int) []byte {
		var b bytes.Buffer
		b.WriteString(multipartHead("b"))
		fill(&b, n-10, "--b\r\nContent-Type: application/octet-stream\r\n\r\n")
		b.WriteString("--b--\r\n")
		return b.Bytes()
	}},
	// Small attachments with names, each opened and sent.
	{"small-attachments", func(n int) []byte {
		var b bytes.Buffer
		b.WriteString(multipartHead("b"))
		fill(&b, n-10, "--b\r\nContent-Type: image/png; name=a.png\r\nContent-Transfer-Encoding: base64\r\n\r\niVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk\r\n")
		b.WriteString("--b--\r\n")
		return b.Bytes()
	}},
	// Multiparts nested far beyond the depth limit, each its own boundary.
	{"deep-nesting", func(n int) []byte {
		var b bytes.Buffer
		b.WriteString(multipartHead("b0"))
		for i := 1; b.Len() < n-64; i++ {
			fmt.Fprintf(&b, "--b%d\r\nContent-Type: multipart/mixed; boundary=b%d\r\n\r\n", i-1, i)
		}
		b.WriteString("--bx\r\n\r\nend\r\n")
		return b.Bytes()
	}},
	// Nesting just inside the limit, then a body of lines that all nearly
	// match one of the 31 long boundaries.
	{"many-boundaries", func(n int) []byte {
		var b bytes.Buffer
		long := strings.Repeat("=_boundary_", 6)
		b.WriteString(multipartHead(long + "00"))
		for i := 1; i < 31; i++ {
			fmt.Fprintf(&b, "--%s%02d\r\nContent-Type: multipart/mixed; boundary=\"%s%02d\"\r\n\r\n", long, i-1, long, i)
		}
		fmt.Fprintf(&b, "--%s30\r\nContent-Type: text/plain\r\n\r\n", long)
		for i := 0; b.Len() < n-80; i++ {
			fmt.Fprintf(&b, "--%s%02dx\r\n", long, i%31)
		}
		fmt.Fprintf(&b, "--%s00--\r\n", long)
		return b.Bytes()
	}},
	// Nested multipart/digest: every part defaults to message/rfc822 and
	// its header is read for the attachment name.
	{"digest-parts", func(n int) []byte {
		var b bytes.Buffer
		b.WriteString(bombHead + "Content-Type: multipart/digest; boundary=d\r\n\r\n")
		fill(&b, n-10, "--d\r\n\r\nSubject: s\r\n\r\nx\r\n")
		b.WriteString("--d--\r\n")
		return b.Bytes()
	}},
	// base64 where most bytes are junk outside the alphabet.
	{"base64-junk", func(n int) []byte {
		var b bytes.Buffer
		b.WriteString(multipartHead("b") + "--b\r\nContent-Type: application/octet-stream; name=x.bin\r\n" +
			"Content-Transfer-Encoding: base64\r\n\r\n")
		fill(&b, n-10, "QU!#$%^&*()JD\r\n")
		b.WriteString("--b--\r\n")
		return b.Bytes()
	}},
	// base64 padded after every group: one byte out per four in.
	{"base64-padding", func(n int) []byte {
		var b bytes.Buffer
		b.WriteString(multipartHead("b") + "--b\r\nContent-Type: application/octet-stream; name=x.bin\r\n" +
			"Content-Transfer-Encoding: base64\r\n\r\n")
		fill(&b, n-10, "QQ==QQ==QQ==QQ==QQ==QQ==QQ==QQ==QQ==QQ==QQ==QQ==QQ==QQ==QQ==QQ==QQ==QQ==\r\n")
		b.WriteString("--b--\r\n")
		return b.Bytes()
	}},
	// Quoted-printable made of soft line breaks only.
	{"qp-soft-breaks", func(n int) []byte {
		var b bytes.Buffer
		b.WriteString(bombHead + "Content-Type: text/plain\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n")
		fill(&b, n, "=\r\n")
		return b.Bytes()
	}},
	// RFC 2231 continuations: a file name in tens of thousands of pieces,
	// in each of several parts.
	{"rfc2231-continuations", func(n int) []byte {
		var b bytes.Buffer
		b.WriteString(multipartHead("b"))
		for b.Len() < n-1024 {
			b.WriteString("--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment")
			for i := 0; i < 8000 && b.Len() < n-1024; i++ {
				fmt.Fprintf(&b, ";\r\n filename*%d*=%%41%%42", i)
			}
			b.WriteString("\r\n\r\nx\r\n")
		}
		b.WriteString("--b--\r\n")
		return b.Bytes()
	}},
	// Encoded words in many charsets, folded, in the Subject.
	{"encoded-words", func(n int) []byte {
		var b bytes.Buffer
		b.WriteString("From: a@example.org\r\nSubject: x")
		fill(&b, n-16, "\r\n =?utf-8?q?a=C3=A4?= =?iso-8859-1?b?5A==?= =?iso-2022-jp?b?GyRCJEIbKEI=?= =?gb18030?q?a?= =?x-unknown?q?a?=")
		b.WriteString("\r\n\r\nbody\r\n")
		return b.Bytes()
	}},
	// Broken encoded words: openers that never close.
	{"broken-encoded-words", func(n int) []byte {
		var b bytes.Buffer
		b.WriteString("From: a@example.org\r\nSubject: x ")
		fill(&b, n-16, "=?=?utf-8?q?=?")
		b.WriteString("\r\n\r\nbody\r\n")
		return b.Bytes()
	}},
	// An address list with encoded names and comments.
	{"many-addresses", func(n int) []byte {
		var b bytes.Buffer
		b.WriteString("From: a@example.org\r\nSubject: x\r\nTo: a@example.org")
		fill(&b, n-16, ", =?utf-8?q?J=C3=BCrgen?= (c) <j@example.org>")
		b.WriteString("\r\n\r\nbody\r\n")
		return b.Bytes()
	}},
	// A broken address list: the lenient salvage path for every item.
	{"broken-addresses", func(n int) []byte {
		var b bytes.Buffer
		b.WriteString("From: a@example.org\r\nSubject: x\r\nTo: <<@>")
		fill(&b, n-16, ", \"x <y@z>")
		b.WriteString("\r\n\r\nbody\r\n")
		return b.Bytes()
	}},
	// An HTML-only body of unclosed nested tags, converted to text.
	{"html-nesting", func(n int) []byte {
		var b bytes.Buffer
		b.WriteString(bombHead + "Content-Type: text/html\r\n\r\n")
		fill(&b, n, "<div><a href=\"http://x/\"><li>x<br><p>\r\n")
		return b.Bytes()
	}},
	// text/plain parts in a charset that needs a decoder per part.
	{"charset-parts", func(n int) []byte {
		var b bytes.Buffer
		b.WriteString(multipartHead("b"))
		fill(&b, n-10, "--b\r\nContent-Type: text/plain; charset=iso-2022-jp\r\n\r\n\x1b$B$3$s$K$A$O\x1b(B\r\n")
		b.WriteString("--b--\r\n")
		return b.Bytes()
	}},
}
