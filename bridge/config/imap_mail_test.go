package config

import (
	"strings"
	"testing"
)

// The requestor, Cc and RT reply keys: defaults, explicit values, errors.
func TestIMAPMailPeopleKeys(t *testing.T) {
	list, err := loadIMAP(t, `  - address: imap.example.org:993
    username: rt
    password: p
  - name: explicit
    address: imap.example.org:993
    username: support@example.org
    password: p
    requestor: from
    cc: [to, cc]
    ignore_addresses: [support@example.org, "*@rt.example.com"]
    rt_names: [rt.example.com]
    subject_tag_regex: 'rt\.example\.(com|org)'
    tagged_reply: comment
    rt_organization: example.com
    reply_senders: ["*@example.com", boss@partner.org, example.net]
    stranger_reply: dead_letter
  - name: off
    address: imap.example.org:993
    username: rt
    password: p
    subject_tags: false
`)
	if err != nil {
		t.Fatal(err)
	}
	a, b, c := list[0], list[1], list[2]
	if a.Requestor != "reply-to" || len(a.Cc) != 0 || a.TaggedReply != "correspond" || !a.UseSubjectTags() || a.RTOrganization != "" ||
		a.StrangerReply != "new_ticket" || len(a.ReplySenders) != 0 {
		t.Errorf("defaults: %+v", a)
	}
	if b.Requestor != "from" || strings.Join(b.Cc, ",") != "to,cc" || len(b.IgnoreAddresses) != 2 ||
		b.SubjectTagRegex != `rt\.example\.(com|org)` || b.TaggedReply != "comment" || b.RTOrganization != "example.com" ||
		b.StrangerReply != "dead_letter" || strings.Join(b.ReplySenders, " ") != "*@example.com boss@partner.org example.net" {
		t.Errorf("explicit: %+v", b)
	}
	if c.UseSubjectTags() {
		t.Errorf("subject_tags: false still on")
	}

	_, err = loadIMAP(t, `  - address: h:1
    username: u
    password: p
    requestor: sender
    cc: [bcc]
    ignore_addresses: ["[x"]
    tagged_reply: resolve
    subject_tag_regex: '(unclosed'
    reply_senders: [ok@example.com, "a b@example.com", "[x"]
    stranger_reply: comment
  - name: b
    address: h:1
    username: u
    password: p
    subject_tags: true
`)
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"requestor: must be reply-to or from", "cc: must list to and/or cc", `"[x" is not an address or pattern`,
		"tagged_reply: must be correspond or comment", "subject_tag_regex: error parsing regexp", "subject_tags: needs rt_names",
		`c.yaml:14:37: imap[0].reply_senders: "a b@example.com" is not an address, pattern or domain`, `"[x" is not an address, pattern or domain`,
		"stranger_reply: must be new_ticket or dead_letter"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}
