// Package mailflow_test runs the mail path with real parts: mail appended
// to the test Dovecot, the real daemon (bridge/daemon.Run: IMAP source,
// store, mail policy, rules, executor) and the real RT, whose tickets,
// attachments (byte for byte through /content) and folders are checked.
package mailflow_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/rtbridge/rtbridge/bridge/mailparse"
	"github.com/rtbridge/rtbridge/internal/testenv"
	"github.com/rtbridge/rtbridge/rtapi"
)

// createRule opens a ticket per mail of source (threaded by Message-ID),
// requestor from Reply-To else From, Cc from To and Cc, all attachments.
func createRule(source string) string {
	return fmt.Sprintf(`  - name: mail %[1]s
    when: { source: %[1]q }
    thread: true
    if_exists: [ { correspond: { attachments: all } } ]
    if_missing:
      - create:
          queue: General
          requestors: '{{ if .ReplyTo }}{{ first .ReplyTo }}{{ else }}{{ .From }}{{ end }}'
          cc: '{{ join ", " .To }}, {{ join ", " .Cc }}'
          attachments: all
`, source)
}

func b64(data []byte) string {
	s := base64.StdEncoding.EncodeToString(data)
	var b strings.Builder
	for len(s) > 76 {
		b.WriteString(s[:76] + "\n")
		s = s[76:]
	}
	return b.String() + s + "\n"
}

func randomBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.UintN(256))
	}
	return b
}

// richMail has a text and an HTML alternative, an inline PNG, a PDF with an
// RFC 2231 name, a forwarded message, a winmail.dat and a Latin-1 text file.
func richMail(marker, msgID string) (raw []byte, parts map[string][]byte) {
	png := append([]byte("\x89PNG\r\n\x1a\n"), randomBytes(3000, 1)...)
	pdf := append([]byte("%PDF-1.4\n"), randomBytes(40000, 2)...)
	tnef := append([]byte{0x78, 0x9f, 0x3e, 0x22}, randomBytes(5000, 3)...)
	latin1 := []byte("Gr\xfc\xdfe aus K\xf6ln\r\nZeile 2\r\n")
	fwd := "From: vendor@example.net\nTo: ops@example.com\nSubject: original report " + marker + "\nMessage-ID: <fwd-" + msgID + ">\n\nforwarded body\n"
	parts = map[string][]byte{"logo.png": png, "Bericht über Q3.pdf": pdf, "winmail.dat": tnef, "notes.txt": latin1}
	mail := fmt.Sprintf(`From: Alice Example <alice@example.com>
Reply-To: helpdesk-reply@example.org
To: support@example.com, Bob <bob@example.com>
Cc: carol@example.com
Subject: =?UTF-8?Q?Drucker_f=C3=A4llt_aus?= %[1]s
Message-ID: <%[2]s>
Date: Mon, 2 Mar 2026 10:00:00 +0100
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="outer"

--outer
Content-Type: multipart/related; boundary="rel"

--rel
Content-Type: multipart/alternative; boundary="alt"

--alt
Content-Type: text/plain; charset=UTF-8
Content-Transfer-Encoding: 8bit

Der Drucker fällt aus. %[1]s

--alt
Content-Type: text/html; charset=UTF-8

<p>Der Drucker <b>fällt</b> aus. %[1]s <img src="cid:logo@x"></p>

--alt--
--rel
Content-Type: image/png; name="logo.png"
Content-Disposition: inline; filename="logo.png"
Content-ID: <logo@x>
Content-Transfer-Encoding: base64

%[3]s--rel--
--outer
Content-Type: application/pdf
Content-Disposition: attachment; filename*=UTF-8''Bericht%%20%%C3%%BCber%%20Q3.pdf
Content-Transfer-Encoding: base64

%[4]s--outer
Content-Type: message/rfc822

%[5]s
--outer
Content-Type: application/ms-tnef; name="winmail.dat"
Content-Disposition: attachment; filename="winmail.dat"
Content-Transfer-Encoding: base64

%[6]s--outer
Content-Type: text/plain; charset=ISO-8859-1; name="notes.txt"
Content-Disposition: attachment; filename="notes.txt"
Content-Transfer-Encoding: base64

%[7]s--outer--
`, marker, msgID, b64(png), b64(pdf), fwd, b64(tnef), b64(latin1))
	parts["original report "+marker+".eml"] = crlf(fwd)
	return crlf(mail), parts
}

func TestMailToTicket(t *testing.T) {
	rt := testenv.RequireRT(t)
	box := newMailbox(t)
	inbox, html, htmlText := box.folder("in"), box.folder("html"), box.folder("html2text")
	src, srcHTML, srcText := "mf/"+inbox, "mf/"+html, "mfx/"+htmlText
	imapYAML := box.imapYAML("mf", []string{inbox, html}, "") +
		box.imapYAML("mfx", []string{htmlText}, "    html: text\n    empty_subject: 'Mail without subject'\n")
	br := startBridge(t, rt.URL, rt.Token, imapYAML, "rules:\n"+createRule(src)+createRule(srcHTML)+createRule(srcText))
	c := rtClient(t, rt)
	ctx := context.Background()
	marker := fmt.Sprintf("MF%d", time.Now().UnixNano())
	msgID := marker + "@mail.example.com"

	raw, parts := richMail(marker, msgID)
	box.append(inbox, raw)
	htmlMail := crlf("From: dave@example.com\nTo: support@example.com\nSubject: html only " + marker +
		"\nMessage-ID: <h1-" + msgID + ">\nContent-Type: text/html; charset=UTF-8\n\n<html><head><style>p{}</style></head><body><p>Hello <b>HTML</b> " + marker + "</p><ul><li>one</li></ul></body></html>\n")
	box.append(html, htmlMail)
	box.append(htmlText, bytes.Replace(htmlMail, []byte("Subject: html only "+marker), []byte("Subject: "), 1))

	ev := br.waitFinal(src, 1, 60*time.Second)[0]
	if ev.State != "done" {
		t.Fatalf("event %s: %s %s", ev.ID, ev.State, ev.Reason)
	}
	id := ticketOf(t, ev)
	tk, err := c.Ticket(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if want := "Drucker fällt aus " + marker; tk.Subject != want {
		t.Errorf("subject %q, want %q", tk.Subject, want)
	}
	if len(tk.Requestors) != 1 || tk.Requestors[0] != "helpdesk-reply@example.org" {
		t.Errorf("requestors %v, want the Reply-To address", tk.Requestors)
	}
	for _, want := range []string{"support@example.com", "bob@example.com", "carol@example.com"} {
		if !containsFold(tk.Cc, want) {
			t.Errorf("cc %v lacks %s", tk.Cc, want)
		}
	}
	atts, err := c.Attachments(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]rtapi.AttachmentInfo{}
	for _, a := range atts {
		byName[a.Name] = a
	}
	types := map[string]string{"logo.png": "image/png", "Bericht über Q3.pdf": "application/pdf",
		"winmail.dat": "application/ms-tnef", "notes.txt": "text/plain", "original report " + marker + ".eml": "message/rfc822"}
	for name, data := range parts {
		a, ok := byName[name]
		if !ok {
			t.Errorf("RT has no attachment %q; has %v", name, atts)
			continue
		}
		got, ct := rtContent(t, c, id, a.ID)
		if got != sum(data) {
			t.Errorf("%s: RT content sha256 %s, the mail's decoded part %s", name, got, sum(data))
		}
		if !strings.HasPrefix(ct, types[name]) {
			t.Errorf("%s: RT type %q, want %s", name, ct, types[name])
		}
	}
	// The body went in as text/plain (preferred over the HTML part).
	hist, err := c.History(ctx, id, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) == 0 || hist[0].Type != "Create" || !strings.Contains(hist[0].Content, "Der Drucker fällt aus. "+marker) {
		t.Errorf("create transaction does not carry the text body: %+v", hist[:min(1, len(hist))])
	}
	if le, ok, err := br.st.Ledger(ctx, "msgid:"+msgID); err != nil || !ok || le.Ticket != id {
		t.Errorf("Message-ID not recorded for threading: %+v %v %v", le, ok, err)
	}

	// HTML-only: kept as text/html (default) or converted (html: text).
	hk := ticketOf(t, br.waitFinal(srcHTML, 1, 30*time.Second)[0])
	if ct, body := createBody(t, c, hk); ct != "text/html" || !strings.Contains(body, "<b>HTML</b>") {
		t.Errorf("html: keep: create body %q %q, want the HTML as text/html", ct, body)
	}
	hx := ticketOf(t, br.waitFinal(srcText, 1, 30*time.Second)[0])
	if ct, body := createBody(t, c, hx); ct != "text/plain" || !strings.Contains(body, "Hello HTML "+marker) || strings.Contains(body, "<b>") || strings.Contains(body, "p{}") {
		t.Errorf("html: text: create body %q %q, want converted plain text", ct, body)
	}
	if tx, _ := c.Ticket(ctx, hx); tx == nil || tx.Subject != "Mail without subject" {
		t.Errorf("empty subject: ticket %+v, want the configured default", tx)
	}
}

// createBody returns the type and text of the first text part of the
// ticket's create transaction.
func createBody(t *testing.T, c *rtapi.Client, id int) (string, string) {
	t.Helper()
	atts, err := c.Attachments(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range atts {
		if a.ContentType == "text/plain" || a.ContentType == "text/html" {
			ct, body, err := c.AttachmentContent(context.Background(), id, a.ID)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(body)
			body.Close()
			return strings.Split(ct, ";")[0], string(b)
		}
	}
	t.Fatalf("ticket %d has no text part: %+v", id, atts)
	return "", ""
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(strings.TrimSpace(x), s) {
			return true
		}
	}
	return false
}

// An unparseable mail still reaches RT with a note and the original;
// RT refusing a create dead-letters the mail into the failure folder; with
// move: Processed a mail moves only once RT has its ticket.
func TestUnparseableAndDisposition(t *testing.T) {
	rt := testenv.RequireRT(t)
	box := newMailbox(t)
	inbox, processed, failed := box.folder("in"), box.folder("Processed"), box.folder("Failed")
	src := "mf/" + inbox
	g := newGate(t, rt.URL)
	marker := fmt.Sprintf("MFD%d", time.Now().UnixNano())
	rules := fmt.Sprintf(`rules:
  - name: refused by RT
    when: { source: %[1]q, subject: '~refuse-me' }
    do: [ { create: { queue: 'No such queue %[2]s' } } ]
%[3]s`, src, marker, createRule(src))
	br := startBridge(t, g.URL, rt.Token, box.imapYAML("mf", []string{inbox},
		fmt.Sprintf("    disposition: %q\n    failure_folder: %q\n", "move: "+processed, failed)), rules)
	c := rtClient(t, rt)
	ctx := context.Background()

	broken := crlf("From: eve@example.com\nTo: support@example.com\nSubject: broken " + marker +
		"\nMessage-ID: <broken-" + marker + "@x>\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"nope\"\n\n" +
		"--nope\nContent-Type: text/plain; charset=x-no-such-charset\n\nbody text " + marker + "\n" +
		"--nope\nContent-Type: application/octet-stream; name=a.bin\nContent-Transfer-Encoding: base64\n\n!!!not base64@@@\n")
	box.append(inbox, broken)
	// While RT is unreachable the mail is stored but stays in the folder.
	deadline := time.Now().Add(20 * time.Second)
	for len(br.events(src)) == 0 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if len(br.events(src)) != 1 {
		t.Fatal("mail not accepted into the store")
	}
	time.Sleep(2 * time.Second)
	if n, p := box.count(inbox), box.count(processed); n != 1 || p != 0 {
		t.Fatalf("before RT has the ticket: %d in the inbox, %d processed; want 1, 0", n, p)
	}
	g.open.Store(true)
	ev := br.waitFinal(src, 1, 60*time.Second)[0]
	if ev.State != "done" {
		t.Fatalf("broken mail: %s %s", ev.State, ev.Reason)
	}
	id := ticketOf(t, ev)
	if _, err := c.Ticket(ctx, id); err != nil {
		t.Fatalf("ticket %d: %v", id, err)
	}
	if n, p := box.count(inbox), box.count(processed); n != 0 || p != 1 {
		t.Errorf("after the ticket: %d in the inbox, %d processed; want 0, 1", n, p)
	}
	hist, err := c.History(ctx, id, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) == 0 || !strings.Contains(hist[0].Content, "could not be fully parsed") || !strings.Contains(hist[0].Content, "body text "+marker) {
		t.Errorf("ticket text does not say the mail was not fully parsed: %+v", hist[:min(1, len(hist))])
	}
	atts, _ := c.Attachments(ctx, id)
	found := false
	for _, a := range atts {
		if a.Name == "original.eml" {
			found = true
			if got, _ := rtContent(t, c, id, a.ID); got != sum(broken) {
				t.Errorf("original.eml differs from the mail: %s vs %s", got, sum(broken))
			}
		}
	}
	if !found {
		t.Errorf("no original.eml on ticket %d: %+v", id, atts)
	}

	// RT refuses (no such queue): a dead letter with RT's reason, moved to
	// the failure folder.
	box.append(inbox, crlf("From: eve@example.com\nTo: support@example.com\nSubject: refuse-me "+marker+"\nMessage-ID: <refuse-"+marker+"@x>\n\nbody\n"))
	evs := br.waitFinal(src, 2, 60*time.Second)
	dead := evs[1]
	if dead.State != "dead" || dead.Reason == "" {
		t.Fatalf("refused mail: state %s reason %q, want a dead letter with RT's reason", dead.State, dead.Reason)
	}
	t.Logf("dead letter reason: %s", dead.Reason)
	if f, n := box.count(failed), box.count(inbox); f != 1 || n != 0 {
		t.Errorf("dead letter: %d in the failure folder, %d in the inbox; want 1, 0", f, n)
	}
}

// The parser sees the stored raw bytes: the fixtures' attachments are what
// the RT checks compare against.
func partSums(t testing.TB, raw []byte) map[string]string {
	t.Helper()
	m, err := mailparse.Parse(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(raw)), nil })
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, a := range m.Attachments {
		rc, err := a.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		out[a.Name] = sum(b)
	}
	return out
}
