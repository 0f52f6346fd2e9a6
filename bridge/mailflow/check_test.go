package mailflow

import (
	"slices"
	"strings"
	"testing"

	"github.com/rtbridge/rtbridge/event"
	"github.com/rtbridge/rtbridge/plan"
)

// Every people field of every step keeps plain addresses only; the note
// and the sender line say what was dropped and who wrote.
func TestCheckPeople(t *testing.T) {
	hostile := `"g:victim@target.example;x"@attacker.example`
	admins := []string{"root", "ops@example.com"}
	f := &fakeRules{plan: plan.Plan{Rule: "r", Steps: []plan.Step{
		{Action: plan.ActionCreate, Create: &plan.Create{Queue: "General", Text: "body",
			Requestors: []string{hostile, "alice@example.com"}, Cc: []string{"group:Staff", "victim@target.example;x@attacker.example"}, AdminCc: []string{" bob@example.com "}}},
		{Action: plan.ActionComment, Message: &plan.Message{Text: "<p>hi</p>", ContentType: "text/html", Cc: []string{"a b@example.com"}, Bcc: []string{"c@example.com"}}},
		{Action: plan.ActionEdit, Edit: &plan.Edit{AdminCc: &admins}},
	}}}
	ev := mailEvent(map[string]string{"From": hostile + "\x00"})
	p, err := Planner(f, nil, event.KindMail).Evaluate(ev, plan.Facts{})
	if err != nil {
		t.Fatal(err)
	}
	c, m, e := p.Steps[0].Create, p.Steps[1].Message, p.Steps[2].Edit
	if !slices.Equal(c.Requestors, []string{"alice@example.com"}) || len(c.Cc) != 0 || !slices.Equal(c.AdminCc, []string{"bob@example.com"}) ||
		len(m.Cc) != 0 || !slices.Equal(m.Bcc, []string{"c@example.com"}) || !slices.Equal(*e.AdminCc, []string{"ops@example.com"}) {
		t.Errorf("people kept: create %q %q %q, comment %q %q, edit %q", c.Requestors, c.Cc, c.AdminCc, m.Cc, m.Bcc, *e.AdminCc)
	}
	wantText := "[rtbridge] Sender: " + hostile + "\n[rtbridge] Not added to the ticket's people (not a plain address): requestor \"\\\"g:victim@target.example;x\\\"@attacker.example\", cc \"group:Staff\", cc \"victim@target.example;x@attacker.example\".\n\nbody"
	if c.Text != wantText {
		t.Errorf("create text:\n%s\nwant\n%s", c.Text, wantText)
	}
	if !strings.HasPrefix(m.Text, "<p>[rtbridge] Sender: &#34;g:victim") || !strings.HasSuffix(m.Text, "</p>\n<p>hi</p>") {
		t.Errorf("comment text %q", m.Text)
	}
	if len(p.Notes) != 3 || !strings.Contains(p.Notes[2], `step 3 (edit): dropped admin_cc "root"`) {
		t.Errorf("notes %q", p.Notes)
	}
	// An edit whose new set holds only dropped values leaves the set alone.
	bad := []string{"group:Staff"}
	f.plan.Steps = []plan.Step{{Action: plan.ActionEdit, Edit: &plan.Edit{Requestors: &bad, Cc: &[]string{}}}}
	p, _ = Planner(f, nil, event.KindMail).Evaluate(ev, plan.Facts{})
	if e := p.Steps[0].Edit; e.Requestors != nil || e.Cc == nil {
		t.Errorf("edit: requestors %v (want unchanged), cc %v (want emptied)", e.Requestors, e.Cc)
	}
	f.plan.Steps = []plan.Step{{Action: plan.ActionCreate, Create: &plan.Create{Queue: "General"}}}
	// Alerts pass the same check.
	f.plan.Steps[0].Create.Requestors = []string{"group:Staff"}
	p, _ = Planner(f, nil, event.KindAlertmanager).Evaluate(&event.Event{Kind: event.KindAlertmanager}, plan.Facts{})
	if len(p.Steps[0].Create.Requestors) != 0 {
		t.Errorf("alert requestors %q", p.Steps[0].Create.Requestors)
	}
}
