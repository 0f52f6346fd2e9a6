package imapsource

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-sasl"

	"github.com/rtbridge/rtbridge/bridge/config"
)

// saslAbort is the answer to a server's error challenge: RFC 7628 3.2.3
// (OAUTHBEARER) and Google's XOAUTH2 both want a dummy reply, after which
// the server ends the exchange with a tagged NO. go-imap would encode an
// empty reply as "=", which Dovecot refuses as bad base64.
var saslAbort = []byte{0x01}

// bearerClient is a SASL client for one bearer token. It remembers the
// status of the server's error challenge (a small JSON document, never
// the token) for the error message.
type bearerClient struct {
	mech   string
	start  func() (string, []byte, error)
	status string
}

func (b *bearerClient) Start() (string, []byte, error) { return b.start() }

func (b *bearerClient) Next(challenge []byte) ([]byte, error) {
	var c struct {
		Status string `json:"status"`
	}
	if json.Unmarshal(challenge, &c) == nil {
		b.status = oneLine(c.Status, 64)
	}
	return saslAbort, nil
}

// newBearerClient returns the SASL client for mech (OAUTHBEARER or
// XOAUTH2) logging user in with token. addr is the server's host:port
// (OAUTHBEARER sends it, as RFC 7628 asks).
func newBearerClient(mech, user, token, addr string) *bearerClient {
	b := &bearerClient{mech: mech}
	if mech == "XOAUTH2" {
		// Google's and Microsoft's format: user=U^Aauth=Bearer T^A^A.
		b.start = func() (string, []byte, error) {
			return mech, []byte("user=" + user + "\x01auth=Bearer " + token + "\x01\x01"), nil
		}
		return b
	}
	opts := &sasl.OAuthBearerOptions{Username: user, Token: token}
	if host, port, err := net.SplitHostPort(addr); err == nil {
		opts.Host = host
		opts.Port, _ = strconv.Atoi(port)
	}
	c := sasl.NewOAuthBearerClient(opts)
	b.start = c.Start
	return b
}

// errNoMechanism: the server offers neither OAuth2 mechanism.
var errNoMechanism = errors.New("the server offers neither AUTH=OAUTHBEARER nor AUTH=XOAUTH2")

// pickMechanism chooses the SASL mechanism: the configured one, or for
// auto OAUTHBEARER (the standard) when offered, else XOAUTH2.
func pickMechanism(want string, caps imap.CapSet) (string, error) {
	switch want {
	case config.MechXOAUTH2:
		return "XOAUTH2", nil
	case config.MechOAUTHBEARER:
		return "OAUTHBEARER", nil
	}
	for _, m := range []string{"OAUTHBEARER", "XOAUTH2"} {
		if caps.Has(imap.AuthCap(m)) {
			return m, nil
		}
	}
	var offered []string
	for c := range caps {
		if s := string(c); strings.HasPrefix(s, "AUTH=") {
			offered = append(offered, s)
		}
	}
	slices.Sort(offered)
	return "", fmt.Errorf("%w (it offers: %s)", errNoMechanism, strings.Join(offered, " "))
}
