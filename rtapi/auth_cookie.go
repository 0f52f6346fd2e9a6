package rtapi

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/rtbridge/rtbridge/rtapi/form"
)

// CookieAuth logs in once (POST REST/1.0/ with user and pass in the body,
// never in a URL) and then sends only RT's session cookie, so only the login
// pays RT's password check. When the session expires RT answers 401; the
// client drops the cookie and this authenticator logs in again, once.
// Concurrent requests share one login.
type CookieAuth struct {
	user, password string
}

// NewCookieAuth returns a CookieAuth for user and password.
func NewCookieAuth(user, password string) *CookieAuth { return &CookieAuth{user, password} }

func (a *CookieAuth) Name() string { return "cookie" }

func (a *CookieAuth) Authenticate(ctx context.Context, _ *http.Request, sess Session) error {
	if sess.HasSession() {
		return nil
	}
	return sess.Login(ctx, func(ctx context.Context, hc *http.Client) error {
		return a.login(ctx, hc, sess)
	})
}

func (a *CookieAuth) Reset() {}

func (a *CookieAuth) login(ctx context.Context, hc *http.Client, sess Session) error {
	const op = "log in"
	body := url.Values{"user": {a.user}, "pass": {a.password}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, sess.Endpoint().String(), strings.NewReader(body))
	if err != nil {
		return &Error{Op: op, Kind: Permanent, Err: err}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := hc.Do(req)
	if err != nil {
		// The login changes nothing in RT: always safe to repeat.
		return transportError(ctx, op, "", err, false, true)
	}
	defer Drain(res.Body)
	if res.StatusCode != http.StatusOK {
		return httpStatusError(op, "", res, true)
	}
	head, err := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	if err != nil {
		return transportError(ctx, op, "", err, false, true)
	}
	line, _, _ := bytes.Cut(head, []byte("\n"))
	st, ok := form.ParseStatus(string(line))
	switch {
	case !ok:
		return notRTError(op, "", res, len(head))
	case st.Code == http.StatusUnauthorized:
		return &Error{Op: op, Code: 401, Text: "RT refused the credentials", Kind: Auth}
	case st.Code != http.StatusOK:
		return &Error{Op: op, Code: st.Code, Text: st.Text, Kind: Permanent}
	}
	return nil
}

func (a *CookieAuth) String() string   { return fmt.Sprintf("CookieAuth{user: %s}", a.user) }
func (a *CookieAuth) GoString() string { return a.String() }
