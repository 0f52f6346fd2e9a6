package mailflow_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rtbridge/rtbridge/bridge/store"
	"github.com/rtbridge/rtbridge/internal/testenv"
)

// threadRules: the RT subject tag (the test RT's rtname is example.com)
// corresponds on the tagged ticket; a vendor's INC number is a correlation
// key; everything else threads by Message-ID or opens a ticket.
func threadRules(src string) string {
	return fmt.Sprintf(`rules:
  - name: rt subject tag
    when: { source: %[1]q, subject: '~\[example\.com #(?P<ticket>\d+)\]' }
    do: [ { correspond: { ticket: '{{ .Match.ticket }}', attachments: all } } ]
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

	box.append(inbox, mail(fmt.Sprintf("Subject: Re: [example.com #%d] printer %s\nMessage-ID: <b-%s@x>", n, m, m), "B: reply with the tag"))
	box.append(inbox, mail("Subject: Re: printer\nMessage-ID: <c-"+m+"@x>\nReferences: <a-"+m+"@x>", "C: reply with only References"))
	box.append(inbox, mail("Subject: [INC0012345] outage "+m+"\nMessage-ID: <d-"+m+"@x>", "D: vendor opens"))
	box.append(inbox, mail("Subject: RE: [INC0012345] outage update "+m+"\nMessage-ID: <e-"+m+"@x>", "E: vendor update"))
	box.append(inbox, mail(fmt.Sprintf("Subject: AutoReply: [example.com #%d] printer\nAuto-Submitted: auto-replied\nMessage-ID: <f-%s@x>", n, m), "F: out of office, threads"))
	box.append(inbox, mail("Subject: Out of office "+m+"\nAuto-Submitted: auto-replied\nMessage-ID: <g-"+m+"@x>", "G: out of office, no ticket"))
	box.append(inbox, mail(fmt.Sprintf("Subject: [example.com #%d] loop\nX-RT-Loop-Prevention: example.com\nMessage-ID: <h-%s@x>", n, m), "H: RT's own mail back"))
	box.append(inbox, mail("Subject: printer "+m+"\nMessage-ID: <a-"+m+"@x>", "first (delivered again)"))

	evs := br.waitFinal(src, 9, 60*time.Second)
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
		if letter[1] == "G" || letter[1] == "H" {
			t.Logf("%s: %s (%s)", letter[1], full.State, full.Reason)
		}
	}
	want := map[string]string{
		"B":  fmt.Sprintf("done|rt subject tag|%d", n),
		"C":  fmt.Sprintf("done|mail %s|%d", src, n),
		"F":  fmt.Sprintf("done|rt subject tag|%d", n),
		"G":  "ignored|automatic mail|0",
		"H":  "ignored|mail loop|0",
		"A2": "duplicate||0",
	}
	for k, w := range want {
		if byMsg[k] != w {
			t.Errorf("mail %s: %s, want %s", k, byMsg[k], w)
		}
	}
	d, e := strings.Split(byMsg["D"], "|"), strings.Split(byMsg["E"], "|")
	if d[0] != "done" || e[0] != "done" || d[2] != e[2] || d[2] == "0" || d[2] == fmt.Sprint(n) {
		t.Errorf("vendor mails D %v and E %v: want one new ticket for INC0012345", d, e)
	}
	// RT: ticket N has the create and three correspondences, no more.
	hist, err := c.History(ctx, n, false)
	if err != nil {
		t.Fatal(err)
	}
	corr := 0
	for _, h := range hist {
		if strings.HasPrefix(h.Description, "Correspondence added") {
			corr++
		}
	}
	if corr != 3 {
		t.Errorf("ticket %d: %d correspondences, want 3 (B, C, F): %+v", n, corr, hist)
	}
	// Only two tickets carry the marker: N and the vendor's.
	found, err := c.SearchTickets(ctx, fmt.Sprintf("Subject LIKE '%s'", m), "id", "s")
	if err != nil {
		t.Fatal(err)
	}
	if len(found) != 2 {
		t.Errorf("tickets with %s: %+v, want 2", m, found)
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
