package mailflow_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rtbridge/rtbridge/bridge/store"
	"github.com/rtbridge/rtbridge/internal/testenv"
)

// threadRules: a vendor's INC number is a correlation key; everything
// else threads by Message-ID or opens a ticket. Replies to RT (subject tag,
// RT's Message-IDs) need no rule: the mail policy handles them first.
func threadRules(src string) string {
	return fmt.Sprintf(`rules:
  - name: vendor incidents
    when: { source: %[1]q, subject: '~\b(?P<inc>INC\d{7})\b' }
    key: 'vendor:{{ .Match.inc }}'
    if_exists: [ { comment: { attachments: all } } ]
    if_missing: [ { create: { queue: General, attachments: all } } ]
%[2]s`, src, createRule(src))
}

func TestThreadingAndLoops(t *testing.T) {
	rt := testenv.RequireRT(t)
	box := newMailbox(t)
	inbox := box.folder("in")
	src := "mf/" + inbox
	br := startBridge(t, rt.URL, rt.Token, box.imapYAML("mf", []string{inbox}, "    rt_names: [example.com]\n"), threadRules(src))
	c := rtClient(t, rt)
	ctx := context.Background()
	m := fmt.Sprintf("MFT%d", time.Now().UnixNano())
	mail := func(headers, body string) []byte {
		return crlf("From: frank@example.com\nTo: support@example.com\nDate: Mon, 2 Mar 2026 10:00:00 +0100\n" + headers + "\n\n" + body + "\n")
	}

	// A: the first mail opens ticket N.
	box.append(inbox, mail("Subject: printer "+m+"\nMessage-ID: <a-"+m+"@x>", "first"))
	n := ticketOf(t, br.waitFinal(src, 1, 30*time.Second)[0])
	// RT answered the requestor (its autoreply): that mail's Message-ID,
	// as RT wrote it to its outgoing mbox.
	rtID := rtMessageIDFor(t, n)
	if !regexp.MustCompile(fmt.Sprintf(`^rt-.+\.%d-\d+-\d+@example\.com$`, n)).MatchString(rtID) {
		t.Fatalf("RT's Message-ID %q is not in the format the policy recognises", rtID)
	}

	box.append(inbox, mail(fmt.Sprintf("Subject: Re: [example.com #%d] printer %s\nMessage-ID: <b-%s@x>", n, m, m), "B: reply with the tag"))
	box.append(inbox, mail("Subject: Re: printer\nMessage-ID: <c-"+m+"@x>\nReferences: <a-"+m+"@x>", "C: reply with only References"))
	box.append(inbox, mail("Subject: [INC0012345] outage "+m+"\nMessage-ID: <d-"+m+"@x>", "D: vendor opens"))
	box.append(inbox, mail("Subject: RE: [INC0012345] outage update "+m+"\nMessage-ID: <e-"+m+"@x>", "E: vendor update"))
	box.append(inbox, mail(fmt.Sprintf("Subject: AutoReply: [example.com #%d] printer\nAuto-Submitted: auto-replied\nMessage-ID: <f-%s@x>", n, m), "F: out of office, threads"))
	box.append(inbox, mail("Subject: Out of office "+m+"\nAuto-Submitted: auto-replied\nMessage-ID: <g-"+m+"@x>", "G: out of office, no ticket"))
	box.append(inbox, mail(fmt.Sprintf("Subject: [example.com #%d] loop\nX-RT-Loop-Prevention: example.com\nMessage-ID: <h-%s@x>", n, m), "H: RT's own mail back"))
	box.append(inbox, mail("Subject: printer "+m+"\nMessage-ID: <a-"+m+"@x>", "first (delivered again)"))
	box.append(inbox, mail("Subject: Re: printer "+m+"\nMessage-ID: <i-"+m+"@x>\nIn-Reply-To: <"+rtID+">", "I: reply to RT's mail, no tag"))
	box.append(inbox, mail(fmt.Sprintf("Subject: Re: printer %s\nMessage-ID: <j-%s@x>\nReferences: <elsewhere-%s@x> <RT-Ticket-%d@example.com>", m, m, m, n), "J: only RT's pseudo reference"))
	box.append(inbox, mail("Subject: Re: [example.com #999999999] printer "+m+"\nMessage-ID: <k-"+m+"@x>", "K: tag of a ticket RT does not have"))

	evs := br.waitFinal(src, 12, 90*time.Second)
	byMsg := map[string]string{}
	for _, e := range evs[1:] {
		full, err := br.st.Event(ctx, e.ID)
		if err != nil {
			t.Fatal(err)
		}
		raw := readRaw(t, br, e.ID)
		letter := regexp.MustCompile(`\n([A-Z]): `).FindStringSubmatch(raw)
		if letter == nil {
			letter = []string{"", "A2"}
		}
		byMsg[letter[1]] = fmt.Sprintf("%s|%s|%d", full.State, full.Rule, firstTicket(full.Steps))
		if letter[1] == "G" || letter[1] == "H" || letter[1] == "K" {
			t.Logf("%s: %s (%s)", letter[1], full.State, full.Reason)
		}
	}
	want := map[string]string{
		"B":  fmt.Sprintf("done|rt subject tag|%d", n),
		"C":  fmt.Sprintf("done|mail %s|%d", src, n),
		"F":  fmt.Sprintf("done|rt subject tag|%d", n),
		"I":  fmt.Sprintf("done|rt message-id|%d", n),
		"J":  fmt.Sprintf("done|rt message-id|%d", n),
		"G":  "ignored|automatic mail|0",
		"H":  "ignored|mail loop|0",
		"A2": "duplicate||0",
	}
	for k, w := range want {
		if byMsg[k] != w {
			t.Errorf("mail %s: %s, want %s", k, byMsg[k], w)
		}
	}
	// K: nobody watches a ticket RT does not have, so the tagged reply is a
	// stranger's: a ticket of its own (stranger_reply: new_ticket).
	if k := strings.Split(byMsg["K"], "|"); k[0] != "done" || k[1] != "mail "+src || k[2] == "0" || k[2] == fmt.Sprint(n) {
		t.Errorf("mail K: %v, want a new ticket by the rules", k)
	}
	d, e := strings.Split(byMsg["D"], "|"), strings.Split(byMsg["E"], "|")
	if d[0] != "done" || e[0] != "done" || d[2] != e[2] || d[2] == "0" || d[2] == fmt.Sprint(n) {
		t.Errorf("vendor mails D %v and E %v: want one new ticket for INC0012345", d, e)
	}
	// RT: ticket N has the create, four correspondences and the
	// auto-reply as a comment (RT must not answer an auto-responder).
	hist, err := c.History(ctx, n, false)
	if err != nil {
		t.Fatal(err)
	}
	corr, comments := 0, 0
	for _, h := range hist {
		switch {
		case strings.HasPrefix(h.Description, "Correspondence added"):
			corr++
		case strings.HasPrefix(h.Description, "Comments added"):
			comments++
		}
	}
	if corr != 4 || comments != 1 {
		t.Errorf("ticket %d: %d correspondences, %d comments; want 4 (B, C, I, J) and 1 (F): %+v", n, corr, comments, hist)
	}
	// Three tickets carry the marker: N, the vendor's and K's.
	found, err := c.SearchTickets(ctx, fmt.Sprintf("Subject LIKE '%s'", m), "id", "s")
	if err != nil {
		t.Fatal(err)
	}
	if len(found) != 3 {
		t.Errorf("tickets with %s: %+v, want 3", m, found)
	}
	if mt := br.metrics(); !strings.Contains(mt, fmt.Sprintf(`rtbridge_events_finished_total{outcome="ignored",rule="mail loop",source=%q} 1`, src)) {
		t.Errorf("the loop is not counted in rtbridge_events_finished_total:\n%s", grep(mt, "events_finished"))
	}
}

func firstTicket(steps []store.Step) int {
	for _, s := range steps {
		if s.Ticket > 0 {
			return s.Ticket
		}
	}
	return 0
}

func grep(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// rtMessageIDFor waits for a mail RT sent about ticket (RT writes its
// outgoing mail to mbox files under RT_MAILBOX_DIR) and returns its
// Message-ID without the angle brackets.
func rtMessageIDFor(t *testing.T, ticket int) string {
	t.Helper()
	dir := testenv.Require(t, "RT_MAILBOX_DIR")["RT_MAILBOX_DIR"]
	tag := fmt.Sprintf("[example.com #%d]", ticket)
	idRe := regexp.MustCompile(`(?mi)^Message-ID:\s*<([^>]+)>`)
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		files, _ := filepath.Glob(filepath.Join(dir, "*.mbox"))
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatalf("RT's outgoing mail: %v", err)
			}
			for _, msg := range strings.Split(string(data), "\nFrom ") {
				head, _, _ := strings.Cut(msg, "\n\n")
				if !strings.Contains(head, tag) {
					continue
				}
				if id := idRe.FindStringSubmatch(head); id != nil {
					return id[1]
				}
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("RT sent no mail about ticket %d to %s within 20s", ticket, dir)
	return ""
}
