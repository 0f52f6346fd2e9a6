package rtapi

import (
	"errors"
	"strings"
	"testing"
)

// RT's mail gateway answers in plain text with no RT/x status line.
func TestGatewayAnswer(t *testing.T) {
	for _, c := range []struct {
		body   string
		kind   Kind // -1: success
		ticket int
		text   string
	}{
		{"ok\n", -1, 0, ""},
		{"ok\nTicket: 42\nQueue: General\n", -1, 42, ""},
		{"okTicket: 7Queue: General", -1, 7, ""}, // RT <= 4.0 wrote no newlines
		{"not ok - operation unsuccessful\n", Permanent, 0, "RT refused the mail: operation unsuccessful (RT names its reason only in DevelMode"},
		{"not ok - Permission Denied: a@b has no right\n", Permanent, 0, "RT refused the mail: Permission Denied: a@b has no right"},
		{"temporary failure - Unknown queue\n", Transient, 0, "Unknown queue"},
		{"<html><body>Bad gateway</body></html>", Transient, 0, ""},
	} {
		res, err := gatewayAnswer("op", "path", c.body)
		if c.kind == -1 {
			if err != nil || res.Ticket != c.ticket {
				t.Errorf("%q: %+v %v", c.body, res, err)
			}
			continue
		}
		var e *Error
		if !errors.As(err, &e) || e.Kind != c.kind || (c.text != "" && !strings.HasPrefix(e.Text, c.text)) {
			t.Errorf("%q: err %v (%+v), want kind %v text %q", c.body, err, e, c.kind, c.text)
		}
	}
}
