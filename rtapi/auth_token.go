package rtapi

import (
	"context"
	"net/http"
)

// TokenAuth sends "Authorization: token <token>" (RT ≥ 5.0 core,
// RT::Authen::Token) until RT has given the client a session cookie, and then
// relies on the cookie, so only the first request (and the first after the
// session expired) pays RT's token check. A front web server must forward
// the Authorization header to RT.
type TokenAuth struct {
	token string
}

// NewTokenAuth returns a TokenAuth for an RT auth token (e.g. "1-14-…").
func NewTokenAuth(token string) *TokenAuth { return &TokenAuth{token} }

func (a *TokenAuth) Name() string { return "token" }

func (a *TokenAuth) Authenticate(_ context.Context, req *http.Request, sess Session) error {
	if !sess.HasSession() {
		req.Header.Set("Authorization", "token "+a.token)
	}
	return nil
}

func (a *TokenAuth) Reset() {}

func (a *TokenAuth) String() string   { return "TokenAuth{}" }
func (a *TokenAuth) GoString() string { return a.String() }
