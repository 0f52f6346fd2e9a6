package mailflow

import (
	"net/textproto"
	"strings"
	"testing"

	"github.com/rtbridge/rtbridge/event"
	"github.com/rtbridge/rtbridge/plan"
)

// fakeRules returns a fixed plan; it stands in for the compiled rules so
// the guard's own decisions are tested without RT (the e2e tests run the
// real rules).
type fakeRules struct {
	plan  plan.Plan
	calls int
}

func (f *fakeRules) Keys(*event.Event) ([]string, error)          { return []string{"k"}, nil }
func (f *fakeRules) NeedStatus(*event.Event, plan.Ledger) []int   { return nil }
func (f *fakeRules) NeedWatchers(*event.Event, plan.Ledger) []int { return nil }
func (f *fakeRules) Evaluate(*event.Event, plan.Facts) (*plan.Plan, error) {
	f.calls++
	p := f.plan
	p.Steps = append([]plan.Step(nil), f.plan.Steps...)
	for i := range p.Steps {
		if c := p.Steps[i].Create; c != nil {
			cc := *c
			p.Steps[i].Create = &cc
		}
	}
	return &p, nil
}

func mailEvent(h map[string]string, problems ...string) *event.Event {
	hdr := textproto.MIMEHeader{}
	for k, v := range h {
		hdr.Set(k, v)
	}
	return &event.Event{Kind: event.KindMail, Source: "box/INBOX", Mail: &event.Mail{Header: hdr,
		HTMLBody: "<p>Hi <b>there</b></p>", ParseProblems: problems}}
}

func createPlan() plan.Plan {
	return plan.Plan{Rule: "r", Steps: []plan.Step{{Action: plan.ActionCreate,
		Create: &plan.Create{Queue: "General", Text: "<p>x</p>", ContentType: "text/html"}, Attachments: plan.Attachments{Original: true}}}}
}

func TestGuard(t *testing.T) {
	pol := map[string]Policy{"box/INBOX": {RTNames: []string{"rt.example.com"}, AutoReply: "thread", HTML: "text", EmptySubject: "(none)"}}

	f := &fakeRules{plan: createPlan()}
	g := Guard{Rules: f, Policies: pol}
	ev := mailEvent(map[string]string{"X-RT-Loop-Prevention": "rt.example.com"})
	p, _ := g.Evaluate(ev, plan.Facts{})
	if p.Ignore == nil || p.Ignore.Rule != RuleLoop || f.calls != 0 {
		t.Errorf("loop: %+v (rules called %d times)", p, f.calls)
	}
	if k, _ := g.Keys(ev); len(k) != 0 {
		t.Errorf("loop keys %v", k)
	}
	if ev.Mail.Subject != "(none)" || !strings.Contains(ev.Mail.TextBody, "Hi there") {
		t.Errorf("prepare: subject %q text %q", ev.Mail.Subject, ev.Mail.TextBody)
	}
	// A foreign RT's loop header is not ours.
	if p, _ := g.Evaluate(mailEvent(map[string]string{"X-RT-Loop-Prevention": "vendor.example"}), plan.Facts{}); p.Ignore != nil {
		t.Errorf("foreign loop header ignored: %+v", p.Ignore)
	}
	// Automatic mail never creates; it may comment.
	auto := map[string]string{"Auto-Submitted": "auto-replied"}
	if p, _ := g.Evaluate(mailEvent(auto), plan.Facts{}); p.Ignore == nil || p.Ignore.Rule != RuleAutoReply {
		t.Errorf("auto-reply creating: %+v", p)
	}
	f.plan = plan.Plan{Rule: "r", Steps: []plan.Step{{Action: plan.ActionComment, Message: &plan.Message{Text: "t"}}}}
	if p, _ := g.Evaluate(mailEvent(auto), plan.Facts{}); p.Ignore != nil || len(p.Steps) != 1 {
		t.Errorf("auto-reply commenting: %+v", p)
	}
	// Parse problems: a note above the text of the step with the original,
	// escaped for HTML.
	f.plan = createPlan()
	p, _ = g.Evaluate(mailEvent(nil, "bad <charset>"), plan.Facts{})
	if txt := p.Steps[0].Create.Text; !strings.HasPrefix(txt, "<p>[rtbridge] This message could not be fully parsed") || !strings.Contains(txt, "bad &lt;charset&gt;") {
		t.Errorf("note: %q", txt)
	}
	// Other sources pass through untouched.
	other := mailEvent(map[string]string{"X-RT-Loop-Prevention": "rt.example.com"})
	other.Source = "webhook"
	if p, _ := g.Evaluate(other, plan.Facts{}); p.Ignore != nil || other.Mail.Subject != "" {
		t.Errorf("unguarded source changed: %+v %q", p, other.Mail.Subject)
	}
}
