package rtapi

import (
	"context"
	"net/http"
)

// Authenticator adds credentials to requests. The client calls Authenticate
// before every attempt (the request's body is replayable through GetBody), and
// calls Reset once when RT answers "401 Credentials required", then retries
// the request once. Implementations must be safe for concurrent use and must
// never put secrets in errors.
//
// The client keeps RT's session cookie (RT_SID_*) in its jar for every
// authenticator, so an implementation may skip expensive work (a password
// check, a Kerberos round trip) while HasSession reports a live session.
type Authenticator interface {
	// Name is a short label for logs: "basic", "query", "cookie", "token", "kerberos".
	Name() string
	// Authenticate prepares req for sending. sess describes the client's RT
	// session state and lets cookie-style authenticators log in once.
	Authenticate(ctx context.Context, req *http.Request, sess Session) error
	// Reset forgets any cached login after RT refused the credentials.
	Reset()
}

// Session is the view of the client's RT session an Authenticator needs.
type Session interface {
	// HasSession reports whether an RT_SID_* cookie is held for the RT host.
	HasSession() bool
	// Login performs a login request (POST REST/1.0/ with user/pass, or a
	// GET through an authenticating front) whose response cookies the client
	// keeps. It is serialised: concurrent callers wait for one login.
	Login(ctx context.Context, do func(ctx context.Context, client *http.Client) error) error
}
