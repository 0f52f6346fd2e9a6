package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rtbridge/rtbridge/rules"
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
		Plan rules.Plan
	}
	plan := func(args ...string) rules.Plan {
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
