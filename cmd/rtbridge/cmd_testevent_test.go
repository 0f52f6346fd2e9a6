package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rtbridge/rtbridge/plan"
)

// The three sample rules of issue 3 through `rtbridge test`, on a real mail
// and a real Alertmanager payload.
func TestSampleRulesThroughRtbridgeTest(t *testing.T) {
	dir := "../../rules/testdata"
	run := func(args ...string) (string, string, int) {
		var out, errb bytes.Buffer
		code := dispatch(context.Background(), append([]string{"test", "--config", filepath.Join(dir, "sample.yaml")}, args...), &out, &errb)
		return out.String(), errb.String(), code
	}
	type result struct {
		Kind string
		Plan plan.Plan
	}
	plan := func(args ...string) plan.Plan {
		t.Helper()
		out, errs, code := run(args...)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errs)
		}
		var r result
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatalf("%v in %s", err, out)
		}
		return r.Plan
	}
	p := plan(filepath.Join(dir, "events/am-disk-critical.json"))
	if p.Rule != "critical disk alerts open Ops tickets" || len(p.Steps) != 1 {
		t.Fatalf("alert plan %+v", p)
	}
	c := p.Steps[0].Create
	if c.Queue != "Ops" || c.Subject != "[critical] DiskFull on several hosts" || *c.Priority != 80 ||
		p.Steps[0].Key != `am:{}:{alertname="DiskFull"}` || !strings.Contains(c.Text, "Disk almost full on db1") {
		t.Fatalf("alert create %+v", c)
	}
	p = plan("--source", "support-mailbox", filepath.Join(dir, "events/support-new.eml"))
	if c := p.Steps[0].Create; p.Rule != "everything else from the support box" || c.Queue != "Support" ||
		c.Requestors[0] != "alice@example.org" || c.Subject != "Printer on floor 3 is on fire" || !p.Steps[0].Attachments.All {
		t.Fatalf("mail plan %+v", p)
	}
	p = plan("--source", "support-mailbox", filepath.Join(dir, "events/support-reply.eml"))
	if s := p.Steps[0]; p.Rule != "replies thread into their ticket" || s.Action != "comment" || s.Ticket.ID != 123 {
		t.Fatalf("reply plan %+v", p)
	}
	p = plan("--source", "elsewhere", filepath.Join(dir, "events/support-new.eml"))
	if p.Ignore == nil || p.Ignore.Reason != "no rule for mail events from elsewhere" {
		t.Fatalf("default plan %+v", p)
	}
	out, _, code := run("--format", "text", "--source", "support-mailbox", filepath.Join(dir, "events/hostile.eml"))
	if code != 0 || !strings.Contains(out, "subject: Urgent Queue: Admin Owner: root {{ .Secret }}") {
		t.Fatalf("text output (%d):\n%s", code, out)
	}
}

func TestCheckCommand(t *testing.T) {
	var out, errb bytes.Buffer
	if code := dispatch(context.Background(), []string{"check", "-v", "--config", "../../rules/testdata/sample.yaml"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if !strings.Contains(out.String(), `sample.yaml:19:5: rule "replies thread into their ticket": when kind=mail`) {
		t.Fatalf("summary:\n%s", out.String())
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte("rt: {url: 'https://rt/', auth: token, token: x}\nrules:\n  - name: r\n    do:\n      - link: { type: Parent, target: '1' }\n"), 0o600)
	out.Reset()
	errb.Reset()
	if code := dispatch(context.Background(), []string{"check", "--config", bad}, &out, &errb); code != 1 {
		t.Fatalf("exit %d", code)
	}
	if want := bad + `:5:23: rule "r": link: unknown link type "Parent"`; !strings.Contains(errb.String(), want) {
		t.Fatalf("stderr:\n%s\nwant %s", errb.String(), want)
	}
}

// TestTestAppliesMailPolicy proves `rtbridge test --source ACCOUNT/FOLDER`
// plans a mail as the daemon would: the mailbox's loop protection and
// built-in RT reply handling run before the rules.
func TestTestAppliesMailPolicy(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "rtbridge.yaml")
	writeFile(t, cfg, `rt:
  url: http://127.0.0.1:1/
  auth: token
  token: not-used
imap:
  - name: support
    address: 127.0.0.1:1143
    tls: none
    allow_plaintext: true
    username: bridge
    password: not-used
    rt_names: [example.com]
  - name: trusted
    address: 127.0.0.1:1143
    tls: none
    allow_plaintext: true
    username: bridge
    password: not-used
    rt_names: [example.com]
    reply_senders: [example.org]
rules:
  - name: everything opens a ticket
    do:
      - create: { queue: General }
`)
	loop := filepath.Join(dir, "loop.eml")
	writeFile(t, loop, "From: rt@example.com\r\nTo: support@example.org\r\nSubject: looped\r\n"+
		"Message-ID: <loop-1@example.com>\r\nX-RT-Loop-Prevention: example.com\r\n\r\nbody\r\n")
	reply := filepath.Join(dir, "reply.eml")
	writeFile(t, reply, "From: alice@example.org\r\nTo: support@example.org\r\nSubject: Re: [example.com #42] printer\r\n"+
		"Message-ID: <reply-1@example.org>\r\n\r\nstill broken\r\n")

	plan := func(source, file string) plan.Plan {
		t.Helper()
		var out, errb bytes.Buffer
		code := dispatch(context.Background(), []string{"test", "--config", cfg, "--source", source, file}, &out, &errb)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errb.String())
		}
		var r struct{ Plan plan.Plan }
		if err := json.Unmarshal(out.Bytes(), &r); err != nil {
			t.Fatalf("%v in %s", err, out.String())
		}
		return r.Plan
	}
	if p := plan("support/INBOX", loop); p.Ignore == nil || len(p.Steps) != 0 {
		t.Fatalf("looped mail through the mailbox policy: want ignored, got %+v", p)
	}
	// The test knows no watchers: the sender counts as a stranger, and the
	// plan says so; a sender in reply_senders needs none.
	p := plan("support/INBOX", reply)
	if len(p.Steps) != 1 || p.Steps[0].Action != "create" || !strings.Contains(strings.Join(p.Notes, " "), "watchers of ticket 42 are not known") {
		t.Fatalf("tagged reply through the mailbox policy, watchers unknown: want a new ticket with a note, got %+v", p)
	}
	p = plan("trusted/INBOX", reply)
	if len(p.Steps) != 1 || p.Steps[0].Action != "correspond" || p.Steps[0].Ticket.ID != 42 {
		t.Fatalf("tagged reply from a reply_senders address: want correspond on 42, got %+v", p)
	}
	// Another source has no mail policy: the rules alone decide.
	if p := plan("elsewhere", reply); len(p.Steps) != 1 || p.Steps[0].Action != "create" {
		t.Fatalf("tagged reply without a policy: want the rule's create, got %+v", p)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}
