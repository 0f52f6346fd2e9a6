package mailflow

import (
	"strings"
	"testing"

	"github.com/rtbridge/rtbridge/bridge/config"
	"github.com/rtbridge/rtbridge/event"
	"github.com/rtbridge/rtbridge/plan"
)

func policy(t *testing.T, m config.IMAP) Policy {
	t.Helper()
	if m.AutoReply == "" {
		m.AutoReply = "thread"
	}
	if m.TaggedReply == "" {
		m.TaggedReply = "correspond"
	}
	if m.Requestor == "" {
		m.Requestor = "reply-to"
	}
	p, err := PolicyOf(m)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// Ids as the test RT 5.0.3 (Debian) wrote them to its outgoing mbox.
const (
	rtID     = "rt-5.0.3+dfsg-3~deb12u6-6220-1795736783-1609.4-7-0@example.com"
	rtPseudo = "RT-Ticket-43@example.com"
)

func TestRTReplyRecognition(t *testing.T) {
	p := policy(t, config.IMAP{Name: "box", RTNames: []string{"example.com"}, SubjectTagRegex: `rt\.example\.(com|org)`})
	cases := []struct {
		name       string
		mail       event.Mail
		ticket     int
		rule       string
		diagnostic string
	}{
		{"tag", event.Mail{Subject: "Re: [example.com #123] printer"}, 123, RuleSubjectTag, ""},
		{"tag by regex, with URL", event.Mail{Subject: "AW: [https://rt.example.org #7] x"}, 7, RuleSubjectTag, ""},
		{"first tag wins over ids", event.Mail{Subject: "[example.com #5] [example.com #6]", InReplyTo: []string{rtID}}, 5, RuleSubjectTag, ""},
		{"foreign tag", event.Mail{Subject: "[vendor.example #9] x"}, 0, "", ""},
		{"RT's Message-ID in In-Reply-To", event.Mail{Subject: "Re: printer", InReplyTo: []string{rtID}}, 4, RuleRTMessageID, ""},
		{"RT's pseudo reference only", event.Mail{References: []string{"a@x", rtPseudo, "b@y"}}, 43, RuleRTMessageID, ""},
		{"newest reference first", event.Mail{References: []string{rtPseudo, rtID}}, 4, RuleRTMessageID, ""},
		{"foreign RT's Message-ID", event.Mail{InReplyTo: []string{"rt-5.0.3-1-2-3.99-1-0@vendor.example"}}, 0, "", ""},
		{"RT mail about no ticket", event.Mail{InReplyTo: []string{"rt-5.0.3-1-2-3.0-1-0@example.com"}}, 0, "", ""},
		{"our own bridge's ids are not RT's", event.Mail{InReplyTo: []string{"a-4@example.com"}}, 0, "", ""},
	}
	for _, c := range cases {
		n, rule := p.rtReply(&c.mail)
		if n != c.ticket || rule != c.rule {
			t.Errorf("%s: ticket %d rule %q, want %d %q", c.name, n, rule, c.ticket, c.rule)
		}
	}
	// rt_organization replaces the rtnames as the domain of RT's ids.
	o := policy(t, config.IMAP{RTNames: []string{"rt.example.com"}, RTOrganization: "Example.COM"})
	if n, _ := o.rtReply(&event.Mail{InReplyTo: []string{rtID}}); n != 4 {
		t.Errorf("rt_organization: ticket %d", n)
	}
	// subject_tags: false hands both to the rules.
	off := false
	q := policy(t, config.IMAP{RTNames: []string{"example.com"}, SubjectTags: &off})
	if n, rule := q.rtReply(&event.Mail{Subject: "[example.com #1]", InReplyTo: []string{rtID}}); rule != "" {
		t.Errorf("subject_tags false: %d %q", n, rule)
	}
}

func TestGuardRTReply(t *testing.T) {
	f := &fakeRules{plan: createPlan()}
	pol := map[string]Policy{"box/INBOX": policy(t, config.IMAP{RTNames: []string{"example.com"}})}
	g := Guard{Rules: f, Policies: pol}

	ev := fromAlice(mailEvent(map[string]string{}))
	ev.Mail.Subject = "Re: [example.com #77] printer"
	ev.Mail.MessageID = "reply-1@x"
	ev.Mail.TextBody = "thanks\r\nline 2\x00\x1b"
	watch := plan.Facts{Watchers: map[int][]string{77: {"bob@example.com", "alice@example.com"}, 4: {"alice@example.com"}}}
	if w := g.NeedWatchers(ev, nil); len(w) != 1 || w[0] != 77 {
		t.Errorf("NeedWatchers %v, want [77]", w)
	}
	p, err := g.Evaluate(ev, watch)
	if err != nil || f.calls != 0 {
		t.Fatalf("err %v, rules called %d times", err, f.calls)
	}
	s := p.Steps[0]
	if p.Rule != RuleSubjectTag || len(p.Steps) != 1 || s.Action != plan.ActionCorrespond || s.Ticket.ID != 77 ||
		s.Message.Text != "From: Alice <alice@example.com>\n\nthanks\nline 2" || !s.Attachments.All || s.Record[0] != "msgid:reply-1@x" {
		t.Errorf("tagged reply plan: %+v step %+v %+v", p, s, s.Message)
	}
	if k, _ := g.Keys(ev); strings.Join(k, ",") != "k,msgid:reply-1@x" || strings.Join(p.Keys, ",") != "msgid:reply-1@x" {
		t.Errorf("keys %v, plan keys %v", k, p.Keys)
	}

	// An auto-reply threads as a comment; parse problems attach the
	// original with a note.
	auto := fromAlice(mailEvent(map[string]string{"Auto-Submitted": "auto-replied"}, "bad charset"))
	auto.Mail.InReplyTo = []string{rtID}
	p, _ = g.Evaluate(auto, watch)
	s = p.Steps[0]
	if p.Rule != RuleRTMessageID || s.Action != plan.ActionComment || s.Ticket.ID != 4 || !s.Attachments.Original ||
		s.Message.ContentType != "text/html" || !strings.Contains(s.Message.Text, "could not be fully parsed") {
		t.Errorf("automatic reply: %+v step %+v %+v", p, s, s.Message)
	}

	// tagged_reply: comment.
	g.Policies = map[string]Policy{"box/INBOX": policy(t, config.IMAP{RTNames: []string{"example.com"}, TaggedReply: "comment"})}
	if p, _ := g.Evaluate(ev, watch); p.Steps[0].Action != plan.ActionComment {
		t.Errorf("tagged_reply comment: %+v", p.Steps[0])
	}
	// A loop stays a loop even when tagged.
	loop := mailEvent(map[string]string{"X-RT-Loop-Prevention": "example.com"})
	loop.Mail.Subject = "[example.com #77] x"
	if p, _ := g.Evaluate(loop, plan.Facts{}); p.Ignore == nil || p.Ignore.Rule != RuleLoop {
		t.Errorf("tagged loop: %+v", p)
	}
	// subject_tags: false: the rules decide.
	off := false
	g.Policies = map[string]Policy{"box/INBOX": policy(t, config.IMAP{RTNames: []string{"example.com"}, SubjectTags: &off})}
	if p, _ := g.Evaluate(ev, watch); p.Rule != "r" || f.calls != 1 {
		t.Errorf("subject_tags false: %+v", p)
	}
}

func TestCleanTextCut(t *testing.T) {
	long := strings.Repeat("ä", maxText) // two bytes each: the cut falls inside the text
	got := cleanText(long)
	if !strings.HasSuffix(got, "[… truncated by rtbridge]") || strings.ContainsRune(got, '\uFFFD') || len(got) > maxText+64 {
		t.Errorf("cut: len %d, tail %q", len(got), got[len(got)-40:])
	}
}

// fromAlice gives a test mail its sender.
func fromAlice(ev *event.Event) *event.Event {
	ev.Mail.Header.Set("From", "Alice <alice@example.com>")
	ev.Mail.From = []event.Address{{Name: "Alice", Address: "alice@example.com"}}
	return ev
}
