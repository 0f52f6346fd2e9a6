package kerberos

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/jcmturner/gokrb5/v8/spnego"

	"github.com/rtbridge/rtbridge/rtapi"
	"github.com/rtbridge/rtbridge/rtapi/form"
)

// Name implements rtapi.Authenticator.
func (a *Authenticator) Name() string { return "kerberos" }

// Reset implements rtapi.Authenticator: the server refused the request, so
// the next token is made from fresh tickets (a new AS exchange, or the
// credential cache read again). The client drops RT's cookie itself.
func (a *Authenticator) Reset() {
	a.mu.Lock()
	a.stale = true
	a.mu.Unlock()
}

// Authenticate implements rtapi.Authenticator: log in to RT through the front
// when there is no RT session, then add a pre-emptive Negotiate token.
func (a *Authenticator) Authenticate(ctx context.Context, req *http.Request, sess rtapi.Session) error {
	if !sess.HasSession() {
		err := sess.Login(ctx, func(ctx context.Context, hc *http.Client) error {
			return a.loginRT(ctx, hc, sess.Endpoint())
		})
		if err != nil {
			return err
		}
	}
	if err := a.SetHeader(req); err != nil {
		return rtError(err)
	}
	return nil
}

// SetHeader adds "Authorization: Negotiate <token>" for the SPN. The token
// comes from the cached service ticket; the KDC is asked only when that is
// missing or expiring.
func (a *Authenticator) SetHeader(req *http.Request) *Error {
	cl, err := a.client()
	if err != nil {
		if e, ok := err.(*Error); ok {
			return e
		}
		return classify("credentials", a.principal, err)
	}
	if err := spnego.SetSPNEGOHeader(cl, req, a.spn); err != nil {
		return classify("service ticket for "+a.spn, a.principal, err)
	}
	return nil
}

// loginRT runs the SPNEGO exchange against target (RT's REST 1.0 base, which
// answers authenticated users with "RT/… 200 Ok" and sets RT_SID_*): first
// without a token, which must draw "401 WWW-Authenticate: Negotiate", then
// with one. The client hc keeps the session cookie of the second answer.
func (a *Authenticator) loginRT(ctx context.Context, hc *http.Client, endpoint *url.URL) error {
	target, shown := endpoint.String(), rtapi.RedactURL(endpoint)
	fail := func(kind error, detail string) error {
		return rtError(&Error{Op: "negotiate with " + shown, Principal: a.principal, Kind: kind, Detail: detail})
	}
	resp, err := get(ctx, hc, target, nil)
	if err != nil {
		return &rtapi.Error{Op: "kerberos login", Path: shown, Kind: rtapi.Transient, Err: err}
	}
	challenge := negotiateOffered(resp)
	rtapi.Drain(resp.Body)
	switch {
	case resp.StatusCode == http.StatusUnauthorized && !challenge:
		return fail(ErrNoNegotiate, fmt.Sprintf("HTTP 401 with WWW-Authenticate %q", resp.Header.Values("WWW-Authenticate")))
	case resp.StatusCode != http.StatusUnauthorized:
		return fail(ErrNoNegotiate, fmt.Sprintf("HTTP %d without an authentication challenge; is the URL the Kerberos-protected one?", resp.StatusCode))
	}
	resp, err = get(ctx, hc, target, a.SetHeader)
	if err != nil {
		var ke *Error
		if errors.As(err, &ke) {
			return rtError(ke)
		}
		return &rtapi.Error{Op: "kerberos login", Path: shown, Kind: rtapi.Transient, Err: err}
	}
	defer rtapi.Drain(resp.Body)
	if resp.StatusCode == http.StatusUnauthorized {
		a.Reset()
		return fail(ErrRejected, "HTTP 401 after the token (wrong SPN, or the server's keytab does not match the KDC)")
	}
	if resp.StatusCode >= 500 {
		return &rtapi.Error{Op: "kerberos login", Path: shown, Code: resp.StatusCode, Kind: rtapi.Transient, Text: resp.Status}
	}
	head, _ := io.ReadAll(io.LimitReader(resp.Body, 256))
	hasCookie := false
	for _, c := range resp.Cookies() {
		hasCookie = hasCookie || strings.HasPrefix(c.Name, "RT_SID_")
	}
	line, _, _ := strings.Cut(string(head), "\n")
	if st, ok := form.ParseStatus(line); resp.StatusCode != http.StatusOK || !hasCookie || !ok || st.Code != http.StatusOK {
		return fail(ErrNoRTSession, fmt.Sprintf("HTTP %d %q; RT must trust the web server's user ($WebRemoteUserAuth) and know the user", resp.StatusCode, line))
	}
	a.log.Debug("kerberos: RT session started", "principal", a.principal)
	return nil
}

func get(ctx context.Context, hc *http.Client, target string, auth func(*http.Request) *Error) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return nil, err
	}
	if auth != nil {
		if e := auth(req); e != nil {
			return nil, e
		}
	}
	return hc.Do(req)
}

// negotiateOffered reports a "WWW-Authenticate: Negotiate" challenge.
func negotiateOffered(resp *http.Response) bool {
	for _, v := range resp.Header.Values("WWW-Authenticate") {
		for _, part := range strings.Split(v, ",") {
			f := strings.Fields(part)
			if len(f) > 0 && strings.EqualFold(f[0], "Negotiate") {
				return true
			}
		}
	}
	return false
}
