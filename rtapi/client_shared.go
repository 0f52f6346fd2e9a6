package rtapi

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// This file holds what the REST 1.0 client and the REST2 client
// (rtapi/rest2) decide the same way, exported for rest2: which RT URLs are
// accepted and how a failed attempt is classified (the attempt loop itself
// is Conn).

// WebRoot checks an RT URL and returns RT's web root, ending in "/". It
// accepts the root itself (https://rt.example.com/, https://example.com/rt/)
// or a REST base under it (…/REST/1.0/ or …/REST/2.0/). Credentials, a query
// or a fragment are refused; errors show the URL redacted.
func WebRoot(raw string) (*url.URL, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil, errors.New("rtapi: RT URL is empty")
	}
	u, err := url.Parse(raw)
	if err != nil {
		// url.Parse's error repeats the input, which may hold a password.
		return nil, errors.New("rtapi: RT URL does not parse")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("rtapi: RT URL %s: scheme must be http or https", RedactURL(u))
	}
	if u.Host == "" {
		return nil, fmt.Errorf("rtapi: RT URL %s has no host", RedactURL(u))
	}
	if u.User != nil {
		return nil, fmt.Errorf("rtapi: RT URL %s must not contain credentials; configure the authenticator instead", RedactURL(u))
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("rtapi: RT URL %s must not have a query or fragment", RedactURL(u))
	}
	p := strings.TrimRight(u.Path, "/")
	for _, suffix := range []string{"/REST/1.0", "/REST/2.0"} {
		if strings.HasSuffix(strings.ToUpper(p), suffix) {
			p = p[:len(p)-len(suffix)]
			break
		}
	}
	u.Path, u.RawPath = p+"/", ""
	return u, nil
}

// ResolvePath returns the URL of a REST path ("ticket/17/show") under
// base, the API's root ending in prefix ("REST/1.0/", "REST/2.0/"); the
// path may repeat the prefix. query is added to the path's own query. A
// path that would leave base is refused.
func ResolvePath(base *url.URL, prefix, path string, query url.Values) (*url.URL, error) {
	path = strings.TrimLeft(path, "/")
	if len(path) >= len(prefix) && strings.EqualFold(path[:len(prefix)], prefix) {
		path = path[len(prefix):]
	}
	rel, err := url.Parse(path)
	if err != nil || rel.IsAbs() || rel.Host != "" || strings.Contains(path, "..") {
		return nil, fmt.Errorf("rtapi: invalid REST path %q", path)
	}
	u := base.ResolveReference(rel)
	q := u.Query()
	for k, vs := range query {
		q[k] = append(q[k], vs...)
	}
	// Encode encodes '+' as %2B, which RT's search needs for orderby=+id.
	u.RawQuery = q.Encode()
	return u, nil
}

// TransportError classifies a failure to get an answer to attempt of op:
// Ambiguous when a request that is not idempotent was sent (RT may have
// acted), Permanent for a certificate error, else Transient. The error is
// kept with URLs redacted. parent is the call's context (not the attempt's):
// its end makes the failure Transient unless RT may have acted.
func TransportError(parent context.Context, op, path string, err error, sent, idempotent bool) *Error {
	return transportError(parent, op, path, err, sent, idempotent)
}

// authenticatorError wraps the error of an Authenticator for op: its own
// *Error keeps its Kind (which says whether the login may be retried), a
// cancelled or expired context is Transient, anything else is Auth.
func authenticatorError(op, path string, err error) *Error {
	var ae *Error
	if errors.As(err, &ae) {
		cp := *ae
		cp.Op, cp.Path = op, path
		return &cp
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return &Error{Op: op, Path: path, Kind: Transient, Err: err}
	}
	return &Error{Op: op, Path: path, Kind: Auth, Text: "authentication failed", Err: err}
}
