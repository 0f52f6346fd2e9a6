package imapsource

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// errRelogin ends a session whose OAuth2 token is about to expire: the
// source logs in again at once with a new one (Exchange Online drops a
// session when its token expires).
var errRelogin = errors.New("oauth2 token near expiry; logging in again")

// login authenticates c with the password, or with an OAuth2 bearer token
// over SASL. For OAuth2 it returns when the token stops being fresh (zero:
// no limit), at which point the session should log in again.
func (s *Source) login(ctx context.Context, c *imapclient.Client) (time.Time, error) {
	if s.tok == nil {
		if err := c.Login(s.cfg.Username, s.password()).Wait(); err != nil {
			return time.Time{}, s.loginError(err, "")
		}
		return time.Time{}, nil
	}
	mech, err := pickMechanism(s.cfg.OAuth2.Mechanism, c.Caps())
	if err != nil {
		return time.Time{}, fmt.Errorf("imap %s: %w", s.cfg.Address, err)
	}
	access, until, err := s.tok.Token(ctx, false)
	if err != nil {
		return time.Time{}, err
	}
	how, err := authenticate(c, mech, s.cfg.Username, access, s.cfg.Address)
	var ie *imap.Error
	if errors.As(err, &ie) && ie.Type == imap.StatusResponseTypeNo {
		// Revoked early, or the server's clock ahead of ours: once more
		// with a token fetched now.
		s.log.Info("imap server refused the oauth2 token; trying once more with a new one", "mechanism", mech, "reason", ie.Text)
		if access, until, err = s.tok.Token(ctx, true); err != nil {
			return time.Time{}, err
		}
		how, err = authenticate(c, mech, s.cfg.Username, access, s.cfg.Address)
		how += ", a token fetched just now"
	}
	if err != nil {
		return time.Time{}, s.loginError(err, how)
	}
	s.update(func(st *Status) { st.Mechanism = mech })
	return until, nil
}

// authenticate runs one SASL exchange; how says what was tried, for the
// error.
func authenticate(c *imapclient.Client, mech, user, access, addr string) (how string, err error) {
	b := newBearerClient(mech, user, access, addr)
	err = c.Authenticate(b)
	how = mech
	if b.status != "" {
		how += ", token status " + b.status
	}
	return how, err
}

// loginError words a failed login: the server's text, never a credential.
func (s *Source) loginError(err error, how string) error {
	if how != "" {
		how = " (" + how + ")"
	}
	var ie *imap.Error
	if errors.As(err, &ie) {
		return fmt.Errorf("%w: user %q on %s%s: %s", ErrAuth, s.cfg.Username, s.cfg.Address, how, ie.Text)
	}
	return markUnreachable(fmt.Errorf("imap login on %s%s: %w", s.cfg.Address, how, err))
}
