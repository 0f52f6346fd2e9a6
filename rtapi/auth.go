package rtapi

import (
	"context"
	"net/http"
	"net/url"
)

// Authenticator adds credentials to requests. The client calls Authenticate
// before every attempt (the request's body is replayable through GetBody), and
// calls Reset once when RT (or an authenticating front) answers "401", then
// retries the request once. Implementations must be safe for concurrent use
// and must never put secrets in errors.
//
// The client keeps RT's session cookie (RT_SID_*) itself — from Login, and
// from any answer RT gave as an authenticated user — and sends it on every
// request (unless the authenticator is Stateless), so an implementation should
// skip expensive work (a password check, a Kerberos round trip) while
// HasSession reports a live session. A Kerberos authenticator, for example,
// adds "Authorization: Negotiate …" only when !sess.HasSession(), and from then
// on relies on the cookie RT set in answer to that request; when the cookie
// expires RT answers 401, the client calls Reset, drops the cookie and the
// next Authenticate sends a fresh Negotiate header.
//
// Authenticate's error is returned to the caller: wrap an *Error with Kind
// Auth for refused credentials and Kind Transient for a login that could not
// reach RT (the request itself was then never sent, so retrying is safe).
type Authenticator interface {
	// Name is a short label for logs: "basic", "query", "cookie", "token", "kerberos".
	Name() string
	// Authenticate prepares req for sending. sess describes the client's RT
	// session state and lets cookie-style authenticators log in once.
	Authenticate(ctx context.Context, req *http.Request, sess Session) error
	// Reset forgets any cached login after RT refused the credentials.
	Reset()
}

// Stateless is implemented by authenticators that put credentials on every
// request and want no RT session kept (QueryAuth, the seed's behaviour). The
// client then never sends the RT_SID_* cookie, so every request pays RT's
// password check and creates a server-side session row.
type Stateless interface {
	Stateless() bool
}

// Session is the view of the client's RT session an Authenticator needs.
type Session interface {
	// HasSession reports whether an RT_SID_* cookie is held for the RT host.
	HasSession() bool
	// Endpoint returns (a copy of) the REST 1.0 base URL,
	// e.g. https://rt.example.com/REST/1.0/ — the conventional login target.
	Endpoint() *url.URL
	// Login runs do with an *http.Client on the client's transport (same
	// TLS settings, no redirects followed) that records RT's RT_SID_*
	// cookie; when do returns nil that cookie becomes the session (Login
	// fails if RT set none). do must return an error for a refused login:
	// RT sets an anonymous cookie then too. Concurrent callers share one
	// in-flight login and its error; with a session already held Login
	// returns nil without calling do.
	Login(ctx context.Context, do func(ctx context.Context, client *http.Client) error) error
}
