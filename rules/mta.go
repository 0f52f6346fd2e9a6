package rules

import (
	"slices"
	"strconv"

	"github.com/rtbridge/rtbridge/event"
	"github.com/rtbridge/rtbridge/rules/jsonpath"
)

// MTAData is how the local MTA handed a mail over (rtbridge mailgate or
// LMTP), as templates see it in .MTA: what rt-mailgate's command line, or
// the LMTP route, said. Empty for other mail.
type MTAData struct {
	Via       string // mailgate or lmtp
	Queue     string
	Action    string // correspond, comment, or a chain such as take-comment
	Ticket    int    // named by the extension; 0 when none
	Extension string // the recipient's +extension
	Recipient string
	Sender    string // the envelope sender; "" for a bounce
}

func mtaData(m *event.Mail) MTAData {
	d := m.Delivery
	if d == nil {
		return MTAData{}
	}
	return MTAData{Via: d.Via, Queue: d.Queue, Action: d.Action, Ticket: d.Ticket, Extension: d.Extension,
		Recipient: d.Recipient, Sender: d.Sender}
}

// mtaKeys are the keys of the `mta:` condition.
var mtaKeys = []string{"via", "queue", "action", "ticket", "extension", "recipient", "sender"}

func mtaKey(k string) bool { return slices.Contains(mtaKeys, k) }

// mtaField is the `mta: { key: test }` condition's getter; a mail the MTA
// did not hand over has no such field (it matches only absent, != and !~).
func mtaField(v *view, key string, _ []jsonpath.Elem) ([]string, bool) {
	if v.ev.Mail == nil || v.ev.Mail.Delivery == nil {
		return nil, false
	}
	d := v.ev.Mail.Delivery
	var s string
	switch key {
	case "via":
		s = d.Via
	case "queue":
		s = d.Queue
	case "action":
		s = d.Action
	case "ticket":
		if d.Ticket > 0 {
			s = strconv.Itoa(d.Ticket)
		}
	case "extension":
		s = d.Extension
	case "recipient":
		s = d.Recipient
	case "sender":
		s = d.Sender
	}
	return v.one(s)
}
