package mailflow

import (
	"strings"
	"testing"

	"github.com/rtbridge/rtbridge/bridge/config"
	"github.com/rtbridge/rtbridge/event"
	"github.com/rtbridge/rtbridge/plan"
)

func peopleMail() *event.Event {
	ev := mailEvent(map[string]string{})
	m := ev.Mail
	m.From = []event.Address{{Name: "Alice", Address: "alice@example.com"}}
	m.ReplyTo = []event.Address{{Address: "support@example.org"}, {Address: "helpdesk@example.org"}}
	m.To = []event.Address{{Address: "Support@Example.org"}, {Address: "bob@example.com"}, {Address: "queue@rt.example.com"}}
	m.Cc = []event.Address{{Address: "carol@example.com"}, {Address: "BOB@example.com"}, {Address: "alice@example.com"}}
	return ev
}

func omittedPlan(omitted ...string) plan.Plan {
	p := createPlan()
	c := p.Steps[0].Create
	c.Requestors, c.Cc, c.Omitted = []string{"alice@example.com"}, nil, omitted
	return p
}

func TestGuardPeople(t *testing.T) {
	box := config.IMAP{Username: "support@example.org", IgnoreAddresses: []string{"*@RT.example.com"}}
	cases := []struct {
		name      string
		requestor string
		cc        []string
		omitted   []string
		req, want string // comma-joined requestors, cc
	}{
		// Reply-To first, the mailbox's own address skipped; no Cc by default.
		{"defaults", "", nil, []string{"requestors", "cc"}, "helpdesk@example.org", ""},
		{"from", "from", nil, []string{"requestors", "cc"}, "alice@example.com", ""},
		// To and Cc without the mailbox, RT's addresses, repeats or the requestor.
		{"cc to+cc", "from", []string{"to", "cc"}, []string{"requestors", "cc"}, "alice@example.com", "bob@example.com,carol@example.com"},
		{"cc only", "", []string{"cc"}, []string{"requestors", "cc"}, "helpdesk@example.org", "carol@example.com,BOB@example.com,alice@example.com"},
		// The rule's own requestors and cc win.
		{"rule decides", "", []string{"to", "cc"}, nil, "alice@example.com", ""},
	}
	for _, c := range cases {
		m := box
		m.Requestor, m.Cc = c.requestor, c.cc
		g := Guard{Rules: &fakeRules{plan: omittedPlan(c.omitted...)}, Policies: map[string]Policy{"box/INBOX": policy(t, m)}}
		p, err := g.Evaluate(peopleMail(), plan.Facts{})
		if err != nil {
			t.Fatal(err)
		}
		cr := p.Steps[0].Create
		if got := strings.Join(cr.Requestors, ","); got != c.req {
			t.Errorf("%s: requestors %q, want %q", c.name, got, c.req)
		}
		if got := strings.Join(cr.Cc, ","); got != c.want {
			t.Errorf("%s: cc %q, want %q", c.name, got, c.want)
		}
	}
	// Only ignored addresses: no requestor rather than the mailbox itself.
	g := Guard{Rules: &fakeRules{plan: omittedPlan("requestors")}, Policies: map[string]Policy{"box/INBOX": policy(t, box)}}
	ev := mailEvent(map[string]string{})
	ev.Mail.From = []event.Address{{Address: "SUPPORT@example.org"}}
	if p, _ := g.Evaluate(ev, plan.Facts{}); len(p.Steps[0].Create.Requestors) != 0 {
		t.Errorf("own address as requestor: %v", p.Steps[0].Create.Requestors)
	}
}
