package rules

import (
	"strings"
	"testing"

	"github.com/rtbridge/rtbridge/event"
)

// Mail the MTA handed over carries what rt-mailgate's command line said;
// rules match it with mta: and templates read it as .MTA.
func TestMTAFieldAndData(t *testing.T) {
	rs := mustCompile(t, `
rules:
  - name: comments
    when: { mta: { action: '~(^|-)comment($|-)', via: mailgate } }
    do: [ { create: { queue: '{{ .MTA.Queue }}', subject: '{{ .MTA.Extension }}/{{ .MTA.Ticket }}' } } ]
  - name: not from the MTA
    when: { mta: { via: { absent: true } } }
    do: [ { ignore: not mta } ]
  - name: rest
    do: [ { ignore: other } ]
`)
	ev := mailEvent()
	ev.Mail.Delivery = &event.Delivery{Via: "mailgate", Queue: "Billing", Action: "take-comment", Extension: "x", Ticket: 7}
	p := eval(t, rs, ev, nil)
	if p.Rule != "comments" || len(p.Steps) != 1 || p.Steps[0].Create.Queue != "Billing" || p.Steps[0].Create.Subject != "x/7" {
		t.Fatalf("plan %s", showPlan(p))
	}
	ev.Mail.Delivery.Action = "correspond"
	if p := eval(t, rs, ev, nil); p.Rule != "rest" {
		t.Errorf("correspond matched %q", p.Rule)
	}
	ev.Mail.Delivery = nil
	if p := eval(t, rs, ev, nil); p.Rule != "not from the MTA" {
		t.Errorf("IMAP mail matched %q", p.Rule)
	}
}

func TestMTAUnknownKey(t *testing.T) {
	_, err := compileYAML(t, "rules:\n  - when: { mta: { queueue: General } }\n    do: [ { ignore: x } ]\n")
	if err == nil || !strings.Contains(err.Error(), `t.yaml:2:`) || !strings.Contains(err.Error(), `unknown key "queueue"`) {
		t.Errorf("err = %v", err)
	}
}
