package mailflow_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rtbridge/rtbridge/internal/testenv"
)

// TestRequestorAndCc: rules that say nothing about people get them from the
// mailbox's policy: by default the Reply-To address as requestor and no Cc
// (RT's mailgate); with requestor: from and cc: [to, cc], From and the
// other recipients, never the mailbox's own or RT's addresses.
func TestRequestorAndCc(t *testing.T) {
	rt := testenv.RequireRT(t)
	box := newMailbox(t)
	def, cc := box.folder("def"), box.folder("cc")
	srcDef, srcCc := "mfd/"+def, "mfc/"+cc
	imapYAML := box.imapYAML("mfd", []string{def}, "") +
		box.imapYAML("mfc", []string{cc}, "    requestor: from\n    cc: [to, cc]\n    ignore_addresses: [support@example.com, '*@rt.example.com']\n")
	rules := "rules:\n  - name: open\n    do: [ { create: { queue: General } } ]\n"
	br := startBridge(t, rt.URL, rt.Token, imapYAML, rules)
	c := rtClient(t, rt)
	m := fmt.Sprintf("MFP%d", time.Now().UnixNano())
	mail := crlf(`From: Alice <alice@example.com>
Reply-To: alice.private@example.org
To: support@example.com, Bob <bob@example.com>
Cc: queue@rt.example.com, carol@example.com
Subject: people ` + m + `
Message-ID: <p-` + m + `@x>

who is who
`)
	box.append(def, mail)
	box.append(cc, mail)
	for _, x := range []struct{ src, req, cc string }{
		{srcDef, "alice.private@example.org", ""},
		{srcCc, "alice@example.com", "bob@example.com,carol@example.com"},
	} {
		ev := br.waitFinal(x.src, 1, 60*time.Second)[0]
		if ev.State != "done" {
			t.Fatalf("%s: %s %s", x.src, ev.State, ev.Reason)
		}
		tk, err := c.Ticket(context.Background(), ticketOf(t, ev))
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.ToLower(strings.Join(tk.Requestors, ",")); got != x.req {
			t.Errorf("%s: requestors %q, want %q", x.src, got, x.req)
		}
		if got := strings.ToLower(strings.Join(tk.Cc, ",")); got != x.cc {
			t.Errorf("%s: cc %q, want %q", x.src, got, x.cc)
		}
	}
}
