package mailflow

import (
	"errors"
	"strings"
	"testing"

	"github.com/rtbridge/rtbridge/bridge/config"
	"github.com/rtbridge/rtbridge/event"
	"github.com/rtbridge/rtbridge/plan"
)

// A reply from someone who watches neither the ticket nor matches
// reply_senders never touches the ticket: a new ticket through the rules
// (its text naming the claimed ticket), or a dead letter.
func TestStrangerReply(t *testing.T) {
	tagged := func(headers map[string]string) *event.Event {
		ev := fromAlice(mailEvent(headers))
		ev.Mail.Subject = "Re: [example.com #77] printer"
		ev.Mail.TextBody = "let me in"
		return ev
	}
	strangers := plan.Facts{Watchers: map[int][]string{77: {"bob@example.com"}}}
	cfg := config.IMAP{RTNames: []string{"example.com"}}

	f := &fakeRules{plan: createPlan()}
	g := Guard{Rules: f, Policies: map[string]Policy{"box/INBOX": policy(t, cfg)}}
	p, err := g.Evaluate(tagged(nil), strangers)
	if err != nil || f.calls != 1 || len(p.Steps) != 1 || p.Steps[0].Action != plan.ActionCreate {
		t.Fatalf("stranger, new_ticket: err %v, plan %+v", err, p)
	}
	if txt := p.Steps[0].Create.Text; !strings.Contains(txt, "claimed to answer RT ticket 77 (subject tag), but sender alice@example.com is not a watcher of ticket 77") {
		t.Errorf("new ticket text does not name the claimed ticket: %q", txt)
	}

	// Unknown watchers (rtbridge test): a stranger too, and the note says why.
	p, _ = g.Evaluate(tagged(nil), plan.Facts{})
	if len(p.Steps) != 1 || p.Steps[0].Action != plan.ActionCreate || !strings.Contains(strings.Join(p.Notes, "\n"), "watchers of ticket 77 are not known") {
		t.Errorf("unknown watchers: %+v", p)
	}

	// The rules' own steps on the claimed ticket are dropped.
	f.plan = plan.Plan{Rule: "r", Steps: []plan.Step{{Action: plan.ActionComment, Rule: "r", Ticket: plan.TicketRef{ID: 77}, Message: &plan.Message{Text: "x"}}}}
	p, _ = g.Evaluate(tagged(nil), strangers)
	if len(p.Steps) != 0 || p.Ignore == nil {
		t.Errorf("rule step on the claimed ticket kept: %+v", p)
	}
	f.plan = createPlan()

	// Automatic mail from a stranger: never a comment; under auto_reply:
	// thread it opens no ticket either.
	p, _ = g.Evaluate(tagged(map[string]string{"Auto-Submitted": "auto-replied"}), strangers)
	if len(p.Steps) != 0 || p.Ignore == nil || !strings.Contains(p.Ignore.Reason, "claimed to answer RT ticket 77") {
		t.Errorf("automatic mail from a stranger: %+v", p)
	}

	// stranger_reply: dead_letter.
	dl := cfg
	dl.StrangerReply = "dead_letter"
	g.Policies = map[string]Policy{"box/INBOX": policy(t, dl)}
	for _, h := range []map[string]string{nil, {"Auto-Submitted": "auto-replied"}} {
		if p, err := g.Evaluate(tagged(h), strangers); !errors.Is(err, ErrStrangerReply) || p != nil {
			t.Errorf("dead_letter %v: err %v plan %+v", h, err, p)
		}
	}

	// A From that is no plain address is nobody's watcher.
	ev := tagged(nil)
	ev.Mail.From[0].Address = "alice@example.com,x@attacker.example"
	if _, err := g.Evaluate(ev, plan.Facts{Watchers: map[int][]string{77: {"alice@example.com"}}}); !errors.Is(err, ErrStrangerReply) {
		t.Errorf("hostile From as watcher: %v", err)
	}
}

func TestReplySenders(t *testing.T) {
	cfg := config.IMAP{RTNames: []string{"example.com"}, ReplySenders: []string{"*@Example.com", "boss@partner.org", "vendor.example"}}
	p := policy(t, cfg)
	for addr, want := range map[string]bool{"alice@example.com": true, "boss@partner.org": true, "x@vendor.example": true,
		"other@partner.org": false, "a@sub.example.com": false, "a@example.com.evil": false, "a@vendor.example.org": false} {
		if got := p.replySender(addr); got != want {
			t.Errorf("%s: %v, want %v", addr, got, want)
		}
	}
	f := &fakeRules{plan: createPlan()}
	g := Guard{Rules: f, Policies: map[string]Policy{"box/INBOX": p}}
	ev := fromAlice(mailEvent(nil))
	ev.Mail.Subject = "[example.com #5] x"
	if w := g.NeedWatchers(ev, nil); len(w) != 0 {
		t.Errorf("an allowed sender needs no watcher read: %v", w)
	}
	pl, err := g.Evaluate(ev, plan.Facts{})
	if err != nil || len(pl.Steps) != 1 || pl.Steps[0].Action != plan.ActionCorrespond || pl.Steps[0].Ticket.ID != 5 {
		t.Errorf("allowed sender: %v %+v", err, pl)
	}
}
