package mailflow_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rtbridge/rtbridge/internal/testenv"
)

// TestHostilePeopleInRT sends the measured people attacks through the
// daemon (IMAP → store → rules → RT), over REST 1.0 and REST2, with rules
// that take the requestor and Cc from the mail, and with the mailbox's own
// defaults, and reads RT's stored watchers: exactly the plain address, or
// nobody, never a second person, a group or an RT user.
func TestHostilePeopleInRT(t *testing.T) {
	rt := testenv.RequireRT(t)
	for _, api := range []string{"rest1", "rest2"} {
		t.Run(api, func(t *testing.T) {
			box := newMailbox(t)
			tmpl, def := box.folder("tmpl"), box.folder("def")
			srcT, srcD := "hpt/"+tmpl, "hpd/"+def
			imapYAML := box.imapYAML("hpt", []string{tmpl}, "") + box.imapYAML("hpd", []string{def}, "    requestor: from\n    cc: [cc]\n")
			rules := fmt.Sprintf(`rules:
  - name: from the template
    when: { source: %q }
    do: [ { create: { queue: General, requestor: '{{ .From }}', cc: '{{ join "," .Cc }}' } } ]
  - name: mailbox defaults
    do: [ { create: { queue: General } } ]
`, srcT)
			br := startBridgeAPI(t, api, rt.URL, rt.Token, imapYAML, rules)
			c := rtClient(t, rt)
			m := fmt.Sprintf("HP%s%d", api, time.Now().UnixNano())
			froms := []struct{ from, want string }{
				{`"victim@target.example,x"@attacker.example`, ""},
				{`"x,victim@target.example,y"@attacker.example`, ""},
				{`"g:victim@target.example;x"@attacker.example`, ""},
				{`"group:Staff;x"@attacker.example`, ""},
				{`"root;x"@attacker.example`, ""},
				{`Alice <alice@example.com>`, "alice@example.com"},
			}
			for i, f := range froms {
				mail := crlf(fmt.Sprintf("From: %s\nTo: support@example.com\nCc: %s, carol@example.com\nSubject: people %s %d\nMessage-ID: <hp-%s-%d@x>\n\nbody %d\n",
					f.from, f.from, m, i, m, i, i))
				box.append(tmpl, mail)
				box.append(def, mail)
			}
			for _, src := range []string{srcT, srcD} {
				evs := br.waitFinal(src, len(froms), 90*time.Second)
				for i, ev := range evs {
					if ev.State != "done" {
						t.Fatalf("%s mail %d: %s %s", src, i, ev.State, ev.Reason)
					}
					id := ticketOf(t, ev)
					tk, err := c.Ticket(context.Background(), id)
					if err != nil {
						t.Fatal(err)
					}
					req := strings.ToLower(strings.Join(tk.Requestors, ","))
					cc := strings.ToLower(strings.Join(tk.Cc, ","))
					wantCc := "carol@example.com"
					if froms[i].want != "" && src == srcT {
						wantCc = froms[i].want + "," + wantCc // the template copies Cc whole; the defaults leave the requestor out
					}
					if req != froms[i].want || cc != wantCc || len(tk.AdminCc) != 0 {
						t.Errorf("%s From %s: ticket %d requestors %q cc %q admincc %q; want requestors %q, cc %q",
							src, froms[i].from, id, req, cc, tk.AdminCc, froms[i].want, wantCc)
					}
					if froms[i].want != "" {
						continue
					}
					hist, err := c.History(context.Background(), id, true)
					if err != nil || len(hist) == 0 {
						t.Fatalf("history of %d: %v", id, err)
					}
					if !strings.Contains(hist[0].Content, "[rtbridge] Sender: "+froms[i].from) {
						t.Errorf("%s ticket %d: the text does not name the sender %s:\n%s", src, id, froms[i].from, hist[0].Content)
					}
				}
			}
		})
	}
}

// TestRepliesWithinSendersRights: a tagged reply is applied only for a
// watcher of the ticket or an allowed sender; a stranger's opens a ticket
// of its own (or is a dead letter) and ticket N's history stays untouched;
// automatic mail from a stranger never becomes a comment.
func TestRepliesWithinSendersRights(t *testing.T) {
	rt := testenv.RequireRT(t)
	box := newMailbox(t)
	in, partner, strict := box.folder("in"), box.folder("partner"), box.folder("strict")
	srcIn, srcP, srcS := "rr/"+in, "rp/"+partner, "rs/"+strict
	tags := "    rt_names: [example.com]\n"
	imapYAML := box.imapYAML("rr", []string{in}, tags) +
		box.imapYAML("rp", []string{partner}, tags+"    reply_senders: [\"*@partner.example\"]\n") +
		box.imapYAML("rs", []string{strict}, tags+"    stranger_reply: dead_letter\n")
	br := startBridge(t, rt.URL, rt.Token, imapYAML, "rules:\n  - name: open\n    do: [ { create: { queue: General } } ]\n")
	c := rtClient(t, rt)
	ctx := context.Background()
	m := fmt.Sprintf("RR%d", time.Now().UnixNano())
	mail := func(from, subject, extra, body string) []byte {
		return crlf(fmt.Sprintf("From: %s\nTo: support@example.com\nSubject: %s\nMessage-ID: <%s-%d@x>\n%s\n%s\n", from, subject, m, time.Now().UnixNano(), extra, body))
	}
	box.append(in, mail("Frank <frank@example.com>", "printer "+m, "", "A: opens N"))
	n := ticketOf(t, br.waitFinal(srcIn, 1, 60*time.Second)[0])
	before, err := c.History(ctx, n, false)
	if err != nil {
		t.Fatal(err)
	}
	tag := fmt.Sprintf("Re: [example.com #%d] printer %s", n, m)

	box.append(in, mail("Mallory <mallory@evil.example>", tag, "", "C: stranger"))
	box.append(in, mail("mallory@evil.example", tag, "Auto-Submitted: auto-replied\n", "D: stranger, automatic"))
	box.append(strict, mail("mallory@evil.example", tag, "", "F: stranger, dead letter policy"))
	evs := br.waitFinal(srcIn, 3, 60*time.Second)
	strictEv := br.waitFinal(srcS, 1, 60*time.Second)[0]
	// Ticket N's history: nothing from the strangers.
	after, err := c.History(ctx, n, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != len(before) {
		t.Errorf("ticket %d: history grew from %d to %d entries by strangers' mail: %+v", n, len(before), len(after), after[len(before):])
	}
	c1, d1 := evs[1], evs[2]
	if c1.State != "done" || c1.Rule != "open" {
		t.Fatalf("stranger's reply: %s rule %q %s, want a new ticket by rule open", c1.State, c1.Rule, c1.Reason)
	}
	newT := ticketOf(t, c1)
	if newT == n {
		t.Fatalf("stranger's reply went to ticket %d", n)
	}
	hist, err := c.History(ctx, newT, true)
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("claimed to answer RT ticket %d (subject tag), but sender mallory@evil.example is not a watcher of ticket %d", n, n); !strings.Contains(hist[0].Content, want) {
		t.Errorf("new ticket %d text lacks %q:\n%s", newT, want, hist[0].Content)
	}
	if d1.State != "ignored" || firstTicket(d1.Steps) != 0 {
		t.Errorf("automatic mail from a stranger: %s %q %s, want ignored (automatic mail opens no ticket)", d1.State, d1.Rule, d1.Reason)
	}
	if strictEv.State != "dead" || !strings.Contains(strictEv.Reason, "no watcher") {
		t.Errorf("stranger_reply: dead_letter: %s %s", strictEv.State, strictEv.Reason)
	}

	// The requestor, and an allowed domain, correspond on N, named.
	box.append(in, mail("Frank <frank@example.com>", tag, "", "B: the requestor"))
	box.append(partner, mail("Boss <boss@partner.example>", tag, "", "E: allowed domain"))
	box.append(in, mail("frank@example.com", tag, "Auto-Submitted: auto-replied\n", "G: the requestor's auto-reply"))
	br.waitFinal(srcIn, 5, 60*time.Second)
	br.waitFinal(srcP, 1, 60*time.Second)
	after, err = c.History(ctx, n, true)
	if err != nil {
		t.Fatal(err)
	}
	var corr, comments []string
	for _, h := range after {
		switch h.Type {
		case "Correspond":
			corr = append(corr, h.Content)
		case "Comment":
			comments = append(comments, h.Content)
		}
	}
	if len(corr) != 2 || len(comments) != 1 {
		t.Fatalf("ticket %d: correspondences %q, comments %q; want B and E, and G", n, corr, comments)
	}
	for _, want := range []string{"From: Frank <frank@example.com>\n\nB: the requestor", "From: Boss <boss@partner.example>\n\nE: allowed domain"} {
		if !strings.Contains(strings.Join(corr, "\n----\n"), want) {
			t.Errorf("ticket %d: no correspondence %q: %q", n, want, corr)
		}
	}
	if !strings.HasPrefix(comments[0], "From: frank@example.com") {
		t.Errorf("comment does not name the sender: %q", comments[0])
	}
}

// TestReplyWaitsForWatchers: while RT cannot be read, a tagged reply is
// not planned (no guess about its sender): it waits, and once RT answers
// the requestor's reply lands on the ticket.
func TestReplyWaitsForWatchers(t *testing.T) {
	rt := testenv.RequireRT(t)
	box := newMailbox(t)
	in := box.folder("in")
	src := "rw/" + in
	g := newGate(t, rt.URL)
	g.open.Store(true)
	br := startBridge(t, g.URL, rt.Token, box.imapYAML("rw", []string{in}, "    rt_names: [example.com]\n"),
		"rules:\n  - name: open\n    do: [ { create: { queue: General } } ]\n")
	c := rtClient(t, rt)
	m := fmt.Sprintf("RW%d", time.Now().UnixNano())
	box.append(in, crlf("From: frank@example.com\nTo: support@example.com\nSubject: printer "+m+"\nMessage-ID: <a-"+m+"@x>\n\nA\n"))
	n := ticketOf(t, br.waitFinal(src, 1, 60*time.Second)[0])

	g.open.Store(false)
	box.append(in, crlf(fmt.Sprintf("From: frank@example.com\nTo: support@example.com\nSubject: Re: [example.com #%d] printer\nMessage-ID: <b-%s@x>\n\nB: waits\n", n, m)))
	deadline := time.Now().Add(20 * time.Second)
	for len(br.events(src)) < 2 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(3 * time.Second)
	evs := br.events(src)
	if len(evs) != 2 || evs[1].State.Final() || evs[1].Plan != nil {
		t.Fatalf("with RT unreadable the reply must wait unplanned: %+v", evs[len(evs)-1])
	}
	g.open.Store(true)
	ev := br.waitFinal(src, 2, 60*time.Second)[1]
	if ev.State != "done" || ev.Rule != "rt subject tag" || ticketOf(t, ev) != n {
		t.Fatalf("reply after RT came back: %s %q %s", ev.State, ev.Rule, ev.Reason)
	}
	hist, err := c.History(context.Background(), n, true)
	if err != nil {
		t.Fatal(err)
	}
	var corr []string
	for _, h := range hist {
		if h.Type == "Correspond" {
			corr = append(corr, h.Content)
		}
	}
	if len(corr) != 1 || !strings.HasPrefix(corr[0], "From: frank@example.com\n\nB: waits") {
		t.Errorf("ticket %d: correspondences %q", n, corr)
	}
}

// TestHostileCommentCc: a comment's Cc taken from a hostile From reaches
// RT as nobody (RT records a comment's Cc as its RT-Send-CC header); the
// plain one as exactly itself. REST 1.0 only: the REST2 backend refuses a
// one-shot Cc outright.
func TestHostileCommentCc(t *testing.T) {
	rt := testenv.RequireRT(t)
	for _, api := range []string{"rest1"} {
		t.Run(api, func(t *testing.T) {
			box := newMailbox(t)
			in := box.folder("in")
			src := "hc/" + in
			rules := `rules:
  - name: thread by marker
    when: { subject: '~(?P<m>CCK\d+)' }
    key: 'cck:{{ .Match.m }}'
    if_missing: [ { create: { queue: General, requestor: frank@example.com } } ]
    if_exists: [ { comment: { cc: '{{ .From }}' } } ]
`
			br := startBridgeAPI(t, api, rt.URL, rt.Token, box.imapYAML("hc", []string{in}, ""), rules)
			c := rtClient(t, rt)
			ctx := context.Background()
			m := fmt.Sprintf("CCK%d", time.Now().UnixNano())
			mail := func(from string, i int) []byte {
				return crlf(fmt.Sprintf("From: %s\nTo: support@example.com\nSubject: thread %s\nMessage-ID: <hc-%s-%d@x>\n\ncomment %d\n", from, m, m, i, i))
			}
			box.append(in, mail("frank@example.com", 0))
			n := ticketOf(t, br.waitFinal(src, 1, 60*time.Second)[0])
			hostile := []string{`"victim@target.example,x"@attacker.example`, `"g:victim@target.example;x"@attacker.example`, `"group:Staff;x"@attacker.example`}
			for i, f := range hostile {
				box.append(in, mail(f, i+1))
			}
			box.append(in, mail("alice@example.com", 9))
			for _, ev := range br.waitFinal(src, len(hostile)+2, 90*time.Second)[1:] {
				if ev.State != "done" || ticketOf(t, ev) != n {
					t.Fatalf("comment: %s %s, ticket %d", ev.State, ev.Reason, ticketOf(t, ev))
				}
			}
			atts, err := c.Attachments(ctx, n)
			if err != nil {
				t.Fatal(err)
			}
			var sendCc []string
			for _, a := range atts {
				info, err := c.Attachment(ctx, n, a.ID)
				if err != nil {
					t.Fatal(err)
				}
				for line := range strings.SplitSeq(info.Headers, "\n") {
					if k, v, ok := strings.Cut(line, ":"); ok && strings.EqualFold(strings.TrimSpace(k), "RT-Send-CC") && strings.TrimSpace(v) != "" {
						sendCc = append(sendCc, strings.TrimSpace(v))
					}
				}
			}
			if strings.Join(sendCc, "|") != "alice@example.com" {
				t.Errorf("ticket %d: comments' RT-Send-CC %q, want only alice@example.com", n, sendCc)
			}
		})
	}
}
