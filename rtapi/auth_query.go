package rtapi

import (
	"context"
	"net/http"
)

// QueryAuth puts user and pass in the query string of every request, as the
// seed's QueryStringAuthenticator did. It is Stateless: the client keeps no
// session for it, so every request pays RT's password check (bcrypt: about
// 0.3 s of RT CPU at RT's stock cost) and leaves a session row behind. Prefer
// CookieAuth; QueryAuth is for setups where a session cannot be kept.
type QueryAuth struct {
	user, password string
}

// NewQueryAuth returns a QueryAuth for user and password.
func NewQueryAuth(user, password string) *QueryAuth { return &QueryAuth{user, password} }

func (a *QueryAuth) Name() string { return "query" }

func (a *QueryAuth) Stateless() bool { return true }

func (a *QueryAuth) Authenticate(_ context.Context, req *http.Request, _ Session) error {
	q := req.URL.Query()
	q.Set("user", a.user)
	q.Set("pass", a.password)
	req.URL.RawQuery = q.Encode()
	return nil
}

func (a *QueryAuth) Reset() {}

func (a *QueryAuth) String() string   { return "QueryAuth{user: " + a.user + "}" }
func (a *QueryAuth) GoString() string { return a.String() }
