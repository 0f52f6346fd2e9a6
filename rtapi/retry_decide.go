package rtapi

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// The functions here decide, for everything that is not an RT status line,
// whether a failed attempt is worth repeating. The rule for writes that are
// not idempotent (create, comment, correspond, take, merge): once the whole
// request has been written and no RT answer was read, RT may have acted, so
// the error is Ambiguous and never retried here. Before that point (refused
// connection, failed TLS handshake, a body that could not be written) RT
// cannot have acted — its PSGI server reads the whole body before RT runs.

// transportError classifies a round trip that produced no HTTP response, or
// whose body could not be read. parent is the caller's context (as opposed
// to the per-attempt timeout).
func transportError(parent context.Context, op, path string, err error, sent, idempotent bool) *Error {
	e := &Error{Op: op, Path: path, Err: redactErr(err), Kind: Transient}
	switch {
	case sent && !idempotent:
		e.Kind = Ambiguous
		e.Text = "no answer after the request was sent; RT may have acted"
	case parent.Err() != nil:
		e.Kind = Transient
	case isCertError(err):
		e.Kind = Permanent
	}
	return e
}

func isCertError(err error) bool {
	var (
		cv *tls.CertificateVerificationError
		ua x509.UnknownAuthorityError
		hn x509.HostnameError
		ci x509.CertificateInvalidError
	)
	return errors.As(err, &cv) || errors.As(err, &ua) || errors.As(err, &hn) || errors.As(err, &ci)
}

// httpStatusError classifies an HTTP status other than 200 (RT's REST 1.0
// answers 200 for all its own outcomes, so these come from a front-end web
// server, a proxy, or a crash inside RT).
func httpStatusError(op, path string, resp *http.Response, idempotent bool) *Error {
	code := resp.StatusCode
	e := &Error{
		Op:         op,
		Path:       path,
		Code:       code,
		Text:       fmt.Sprintf("HTTP %d %s (not an RT answer%s)", code, http.StatusText(code), describeBody(resp)),
		RetryAfter: resp.Header.Get("Retry-After"),
		Kind:       Permanent,
	}
	switch {
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		e.Kind = Auth
	case code >= 300 && code < 400:
		loc := resp.Header.Get("Location")
		switch {
		case strings.Contains(loc, "/SelfService"):
			e.Kind = Auth
			e.Text = fmt.Sprintf("HTTP %d redirect to SelfService: the RT user is unprivileged and cannot use REST 1.0", code)
		case strings.Contains(loc, "Login") || strings.Contains(loc, "login"):
			e.Kind = Auth
			e.Text = fmt.Sprintf("HTTP %d redirect to a login page: not authenticated", code)
		}
	case code == http.StatusRequestTimeout || code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable:
		// The server says it did not process the request.
		e.Kind = Transient
	case code >= 500:
		// A 500/502/504 may come after RT acted (crash after the write, a
		// proxy timing out on a slow RT).
		if idempotent {
			e.Kind = Transient
		} else {
			e.Kind = Ambiguous
		}
	}
	return e
}

// notRTError classifies an HTTP 200 whose body is not an RT answer: a proxy's
// or captive portal's page, RT's HTML login or CSRF page. RT's REST handler
// writes its status line before anything else, so it did not run: nothing
// was done and the request may be repeated.
func notRTError(op, path string, resp *http.Response, n int) *Error {
	return &Error{
		Op:   op,
		Path: path,
		Code: resp.StatusCode,
		Text: fmt.Sprintf("not an RT REST 1.0 answer (%s, %d bytes)", contentType(resp), n),
		Kind: Transient,
	}
}

func describeBody(resp *http.Response) string {
	if ct := contentType(resp); ct != "" {
		return ", " + ct
	}
	return ""
}

func contentType(resp *http.Response) string {
	ct := resp.Header.Get("Content-Type")
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	return strings.TrimSpace(ct)
}
