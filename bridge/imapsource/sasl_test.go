package imapsource

import (
	"errors"
	"testing"

	"github.com/emersion/go-imap/v2"
)

func TestPickMechanism(t *testing.T) {
	both := imap.CapSet{imap.AuthCap("XOAUTH2"): {}, imap.AuthCap("OAUTHBEARER"): {}, imap.AuthCap("PLAIN"): {}}
	xonly := imap.CapSet{imap.AuthCap("XOAUTH2"): {}} // Exchange Online
	for _, tc := range []struct {
		want string
		caps imap.CapSet
		out  string
	}{
		{"auto", both, "OAUTHBEARER"},
		{"auto", xonly, "XOAUTH2"},
		{"xoauth2", both, "XOAUTH2"},
		{"oauthbearer", xonly, "OAUTHBEARER"}, // the operator knows better
	} {
		if got, err := pickMechanism(tc.want, tc.caps); err != nil || got != tc.out {
			t.Errorf("pickMechanism(%s, %v) = %q, %v; want %s", tc.want, tc.caps, got, err, tc.out)
		}
	}
	_, err := pickMechanism("auto", imap.CapSet{imap.AuthCap("PLAIN"): {}})
	if !errors.Is(err, errNoMechanism) {
		t.Fatalf("err = %v", err)
	}
	t.Logf("no mechanism reads: %v", err)
}

func TestBearerClientMessages(t *testing.T) {
	mech, ir, _ := newBearerClient("XOAUTH2", "box@example.org", "TOKEN", "imap.example.org:993").Start()
	if mech != "XOAUTH2" || string(ir) != "user=box@example.org\x01auth=Bearer TOKEN\x01\x01" {
		t.Errorf("XOAUTH2 start: %s %q", mech, ir)
	}
	c := newBearerClient("OAUTHBEARER", "box@example.org", "TOKEN", "imap.example.org:993")
	mech, ir, _ = c.Start()
	if mech != "OAUTHBEARER" || string(ir) != "n,a=box@example.org,\x01host=imap.example.org\x01port=993\x01auth=Bearer TOKEN\x01\x01" {
		t.Errorf("OAUTHBEARER start: %s %q", mech, ir)
	}
	// The error challenge is answered with the dummy reply and remembered.
	resp, err := c.Next([]byte(`{"status":"invalid_token","scope":"x"}`))
	if err != nil || string(resp) != "\x01" || c.status != "invalid_token" {
		t.Errorf("Next: %q %v, status %q", resp, err, c.status)
	}
}
