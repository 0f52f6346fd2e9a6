package rtapi

import (
	"context"
	"net/http"
)

// BasicAuth sends HTTP Basic credentials pre-emptively on every request. It
// is for an RT behind a web server that authenticates (Apache
// mod_auth_basic, or any front setting REMOTE_USER with
// $WebRemoteUserAuth): RT's own REST 1.0 ignores the header. Challenge-based
// Basic (wait for a 401, as the seed's urllib2 handler did) never works
// there, because RT itself answers HTTP 200.
type BasicAuth struct {
	user, password string
}

// NewBasicAuth returns a BasicAuth for user and password.
func NewBasicAuth(user, password string) *BasicAuth { return &BasicAuth{user, password} }

func (a *BasicAuth) Name() string { return "basic" }

func (a *BasicAuth) Authenticate(_ context.Context, req *http.Request, _ Session) error {
	req.SetBasicAuth(a.user, a.password)
	return nil
}

func (a *BasicAuth) Reset() {}

func (a *BasicAuth) String() string   { return "BasicAuth{user: " + a.user + "}" }
func (a *BasicAuth) GoString() string { return a.String() }
