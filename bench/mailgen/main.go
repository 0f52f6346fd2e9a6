// Command mailgen writes the benchmark's mailbox: N generated mails of
// varied sizes (plain, multipart/alternative, with one or two binary
// attachments) and, for each, the same ticket as an RT REST 1.0 create form,
// so bench/run.sh can compare fetchmail + rt-mailgate, rtbridge and RT's own
// ceiling on identical tickets. It also writes one mail with a large
// attachment for the memory leg. Output is deterministic for a given -seed.
//
// Subjects contain the placeholder @@RUN@@, which run.sh replaces with a
// per-run, per-leg tag so tickets can be counted by a REST search while other
// users share the RT.
//
//	go run ./bench/mailgen -dir /tmp/rtbridge-bench/gen -n 100 -big-mb 50
//
// Layout of -dir:
//
//	mail/NNN.eml     the mail (CRLF line ends)
//	rest/NNN.form    REST 1.0 ticket/new content for the same ticket
//	rest/NNN.att     one line per attachment: PATH<TAB>NAME<TAB>TYPE, PATH
//	                 relative to -dir (so the directory may be moved)
//	att/NNN-K.bin    attachment bytes (the curl ceiling uploads these)
//	big.eml          one mail with a -big-mb MB attachment (streamed)
//	manifest         summary: counts and total sizes
package main

import (
	"bufio"
	"encoding/base64"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
)

const placeholder = "@@RUN@@"

var words = strings.Fields(`printer invoice vpn password laptop backup mail
	disk quota license server outage access badge monitor network slow
	update certificate expired phone meeting room calendar account locked`)

var senders = []string{
	"alice@example.test", "bob@example.test", "carol@example.test",
	"dave@example.test", "erin@example.test", "frank@example.test",
	"grace@example.test", "heidi@example.test", "ivan@example.test",
	"judy@example.test",
}

// attachment is one generated binary part.
type attachment struct {
	rel, path, name, ctype string // rel: path relative to -dir
	size                   int
}

// mail describes one generated message.
type mail struct {
	n        int
	from     string
	subject  string
	text     string
	html     bool
	atts     []attachment
	mailSize int64
}

func main() {
	dir := flag.String("dir", "", "output directory (created; existing files are overwritten)")
	n := flag.Int("n", 100, "number of mails")
	seed := flag.Uint64("seed", 1, "random seed (same seed, same mails)")
	bigMB := flag.Int("big-mb", 50, "size in MiB of big.eml's attachment (0 = none)")
	flag.Parse()
	if *dir == "" || *n < 1 {
		fmt.Fprintln(os.Stderr, "usage: mailgen -dir DIR [-n 100] [-seed 1] [-big-mb 50]")
		os.Exit(2)
	}
	if err := run(*dir, *n, *seed, *bigMB); err != nil {
		fmt.Fprintln(os.Stderr, "mailgen:", err)
		os.Exit(1)
	}
}

func run(dir string, n int, seed uint64, bigMB int) error {
	for _, d := range []string{"mail", "rest", "att"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return err
		}
	}
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	var total, atts int64
	var nAtt int
	for i := 1; i <= n; i++ {
		m := makeMail(rng, dir, i)
		if err := writeAttachments(rng, m); err != nil {
			return err
		}
		if err := writeMail(dir, m); err != nil {
			return err
		}
		if err := writeForm(dir, m); err != nil {
			return err
		}
		total += m.mailSize
		for _, a := range m.atts {
			atts += int64(a.size)
			nAtt++
		}
	}
	if bigMB > 0 {
		if err := writeBig(dir, bigMB); err != nil {
			return err
		}
	}
	sum := fmt.Sprintf("mails=%d attachments=%d attachment_bytes=%d mail_bytes=%d big_mb=%d seed=%d\n",
		n, nAtt, atts, total, bigMB, seed)
	fmt.Print(sum)
	return os.WriteFile(filepath.Join(dir, "manifest"), []byte(sum), 0o644)
}

// makeMail picks the shape of mail i: 60 % plain text, 15 % text+HTML,
// 20 % one attachment (4 KiB–512 KiB), 5 % two attachments (up to 1 MiB).
func makeMail(rng *rand.Rand, dir string, i int) *mail {
	m := &mail{n: i, from: senders[rng.IntN(len(senders))]}
	m.subject = fmt.Sprintf("%s m%03d %s %s", placeholder, i, words[rng.IntN(len(words))], words[rng.IntN(len(words))])
	m.text = paragraph(rng, 200+rng.IntN(16000))
	r := rng.IntN(100)
	nAtt := 0
	switch {
	case r < 60:
	case r < 75:
		m.html = true
	case r < 95:
		nAtt = 1
	default:
		nAtt = 2
	}
	for k := 1; k <= nAtt; k++ {
		size := 4096 + rng.IntN(512*1024)
		if nAtt == 2 {
			size = 4096 + rng.IntN(1024*1024)
		}
		name, ctype := fmt.Sprintf("report-%03d-%d.pdf", i, k), "application/pdf"
		if k == 2 {
			name, ctype = fmt.Sprintf("photo-%03d.jpg", i), "image/jpeg"
		}
		rel := filepath.Join("att", fmt.Sprintf("%03d-%d.bin", i, k))
		m.atts = append(m.atts, attachment{
			rel: rel, path: filepath.Join(dir, rel), name: name, ctype: ctype, size: size,
		})
	}
	return m
}

func paragraph(rng *rand.Rand, size int) string {
	var b strings.Builder
	col := 0
	for b.Len() < size {
		w := words[rng.IntN(len(words))]
		if col+len(w) > 72 {
			b.WriteString("\n")
			col = 0
		} else if col > 0 {
			b.WriteString(" ")
			col++
		}
		b.WriteString(w)
		col += len(w)
	}
	b.WriteString("\n")
	return b.String()
}

func writeAttachments(rng *rand.Rand, m *mail) error {
	for _, a := range m.atts {
		buf := make([]byte, a.size)
		for i := range buf {
			buf[i] = byte(rng.Uint32())
		}
		if err := os.WriteFile(a.path, buf, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// crlf writes s with every line ending turned into CRLF.
func crlf(w io.Writer, s string) {
	s = strings.TrimSuffix(s, "\n")
	fmt.Fprint(w, strings.ReplaceAll(s, "\n", "\r\n"), "\r\n")
}

func writeMail(dir string, m *mail) error {
	p := filepath.Join(dir, "mail", fmt.Sprintf("%03d.eml", m.n))
	f, err := os.Create(p)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	fmt.Fprintf(w, "From: %s\r\nTo: support@example.test\r\nSubject: %s\r\n", m.from, m.subject)
	fmt.Fprintf(w, "Date: Mon, 01 Jan 2024 12:%02d:00 +0000\r\nMessage-ID: <bench-%03d.%s@example.test>\r\nMIME-Version: 1.0\r\n",
		m.n%60, m.n, placeholder)
	switch {
	case len(m.atts) > 0:
		fmt.Fprint(w, "Content-Type: multipart/mixed; boundary=\"mix\"\r\n\r\n--mix\r\n")
		textPart(w, m.text)
		for _, a := range m.atts {
			fmt.Fprintf(w, "--mix\r\nContent-Type: %s; name=\"%s\"\r\nContent-Disposition: attachment; filename=\"%s\"\r\nContent-Transfer-Encoding: base64\r\n\r\n",
				a.ctype, a.name, a.name)
			data, err := os.ReadFile(a.path)
			if err != nil {
				f.Close()
				return err
			}
			base64Lines(w, data)
		}
		fmt.Fprint(w, "--mix--\r\n")
	case m.html:
		fmt.Fprint(w, "Content-Type: multipart/alternative; boundary=\"alt\"\r\n\r\n--alt\r\n")
		textPart(w, m.text)
		fmt.Fprint(w, "--alt\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<html><body><p>\r\n")
		crlf(w, strings.ReplaceAll(m.text, "\n", "<br>\n"))
		fmt.Fprint(w, "</p></body></html>\r\n--alt--\r\n")
	default:
		fmt.Fprint(w, "Content-Type: text/plain; charset=utf-8\r\n\r\n")
		crlf(w, m.text)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	st, err := f.Stat()
	if err == nil {
		m.mailSize = st.Size()
	}
	return f.Close()
}

func textPart(w io.Writer, text string) {
	fmt.Fprint(w, "Content-Type: text/plain; charset=utf-8\r\n\r\n")
	crlf(w, text)
}

// base64Lines writes data as base64 in 76-character lines.
func base64Lines(w io.Writer, data []byte) {
	enc := base64.StdEncoding.EncodeToString(data)
	for len(enc) > 76 {
		fmt.Fprint(w, enc[:76], "\r\n")
		enc = enc[76:]
	}
	fmt.Fprint(w, enc, "\r\n")
}

// writeForm writes the REST 1.0 create form of the same ticket: the text
// body as a Text field (continuation lines indented by one space) and the
// attachments by name, bound to attachment_K parts by run.sh.
func writeForm(dir string, m *mail) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Queue: General\nRequestor: %s\nSubject: %s\nText:", m.from, m.subject)
	for _, line := range strings.Split(strings.TrimSuffix(m.text, "\n"), "\n") {
		fmt.Fprintf(&b, " %s\n", line)
	}
	var list strings.Builder
	if len(m.atts) > 0 {
		names := make([]string, len(m.atts))
		for i, a := range m.atts {
			names[i] = a.name
			fmt.Fprintf(&list, "%s\t%s\t%s\n", a.rel, a.name, a.ctype)
		}
		fmt.Fprintf(&b, "Attachment: %s\n", strings.Join(names, ", "))
	}
	base := filepath.Join(dir, "rest", fmt.Sprintf("%03d", m.n))
	if err := os.WriteFile(base+".form", []byte(b.String()), 0o644); err != nil {
		return err
	}
	return os.WriteFile(base+".att", []byte(list.String()), 0o644)
}

// writeBig streams a mail with an mb-MiB attachment to big.eml without
// holding it in memory.
func writeBig(dir string, mb int) error {
	f, err := os.Create(filepath.Join(dir, "big.eml"))
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	fmt.Fprintf(w, "From: alice@example.test\r\nTo: support@example.test\r\nSubject: %s big %d MiB attachment\r\n", placeholder, mb)
	fmt.Fprintf(w, "Date: Mon, 01 Jan 2024 13:00:00 +0000\r\nMessage-ID: <bench-big.%s@example.test>\r\nMIME-Version: 1.0\r\n", placeholder)
	fmt.Fprint(w, "Content-Type: multipart/mixed; boundary=\"mix\"\r\n\r\n--mix\r\n")
	textPart(w, "The attached disk image is large.\n")
	fmt.Fprint(w, "--mix\r\nContent-Type: application/octet-stream; name=\"disk.img\"\r\nContent-Disposition: attachment; filename=\"disk.img\"\r\nContent-Transfer-Encoding: base64\r\n\r\n")
	rng := rand.New(rand.NewPCG(7, 7))
	chunk := make([]byte, 57*1024) // a multiple of 57 keeps 76-char lines exact
	for left := mb << 20; left > 0; left -= len(chunk) {
		c := chunk[:min(len(chunk), left)]
		for i := range c {
			c[i] = byte(rng.Uint32())
		}
		base64Lines(w, c)
	}
	fmt.Fprint(w, "--mix--\r\n")
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
