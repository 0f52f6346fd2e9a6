package rest2

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/rtbridge/rtbridge/rtapi"
)

// body builds a request body for one attempt, so a retry re-reads files.
type body func() (r io.Reader, contentType string, err error)

// jsonBody encodes v once; every attempt sends the same bytes.
func jsonBody(v any) (body, error) {
	b, err := json.Marshal(v)
	return jsonBytes(b), err
}

// jsonBytes sends b, JSON already, on every attempt.
func jsonBytes(b []byte) body {
	return func() (io.Reader, string, error) { return bytes.NewReader(b), "application/json", nil }
}

// call is one logical REST2 request.
type call struct {
	op         string
	method     string
	path       string // relative to …/REST/2.0/
	query      url.Values
	body       body
	idempotent bool // may be re-sent after it reached RT
}

// do runs c through rtapi's attempt loop (as for REST 1.0) and returns the
// status, body (at most 256 MiB) and headers of the last answer.
func (cl *Client) do(ctx context.Context, c *call) (status int, b []byte, h http.Header, err error) {
	err = cl.conn.Do(ctx, &rtapi.Exchange{
		Op: c.op, Path: c.path, Idempotent: c.idempotent,
		New: func(ctx context.Context) (*http.Request, error) {
			status, b, h = 0, nil, nil
			return cl.newRequest(ctx, c)
		},
		Finish: func(resp *http.Response, _ func() bool, _ context.CancelFunc) (int, bool, *rtapi.Error) {
			body, rerr := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
			if rerr != nil {
				return 0, false, rtapi.TransportError(ctx, c.op, c.path, rerr, true, c.idempotent)
			}
			status, b, h = resp.StatusCode, body, resp.Header
			if e := cl.statusError(c, resp, body); e != nil {
				return e.Code, false, e
			}
			return resp.StatusCode, false, nil
		},
	})
	return status, b, h, err
}

// newRequest builds one attempt's request. Origin and Referer name RT's own
// URL: RT's referrer check ($RestrictReferrer) refuses REST2 writes
// authenticated by the session cookie without them.
func (cl *Client) newRequest(ctx context.Context, c *call) (*http.Request, error) {
	u, err := rtapi.ResolvePath(cl.base, "REST/2.0/", c.path, c.query)
	if err != nil {
		return nil, err
	}
	var rd io.Reader
	ctype := ""
	if c.body != nil {
		if rd, ctype, err = c.body(); err != nil {
			return nil, err
		}
	}
	req, err := http.NewRequestWithContext(ctx, c.method, u.String(), rd)
	if err != nil {
		return nil, err
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Origin", cl.origin)
	req.Header.Set("Referer", cl.root.String())
	return req, nil
}

// csrfRefusal is REST2's message when its referrer check refuses a request.
const csrfRefusal = "Cross-site request forgery protection refused this request"

// statusError maps a non-2xx answer to *rtapi.Error: Code is the HTTP status,
// Text RT's {"message": …}.
func (cl *Client) statusError(c *call, resp *http.Response, b []byte) *rtapi.Error {
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	e := &rtapi.Error{Op: c.op, Path: c.path, Code: resp.StatusCode, RetryAfter: resp.Header.Get("Retry-After")}
	var m struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(b, &m) == nil && m.Message != "" {
		e.Text = m.Message
	} else {
		e.Text = http.StatusText(resp.StatusCode)
	}
	switch code := resp.StatusCode; {
	case code == http.StatusUnauthorized:
		e.Kind = rtapi.Auth
	case code >= 300 && code < 400:
		// REST2 redirects to the login page when it sees a browser.
		e.Kind, e.Code, e.Text = rtapi.Auth, http.StatusUnauthorized, "redirected to "+redactLocation(resp.Header.Get("Location"))
	case code == http.StatusForbidden && e.Text == csrfRefusal:
		// Not this request's fault: an RT setting to change (see CSRFError).
		e.Kind, e.Err = rtapi.Auth, &rtapi.CSRFError{Origin: cl.origin}
	case code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable:
		e.Kind = rtapi.Transient // said "later" without doing anything
	case code >= 500:
		e.Kind = rtapi.Transient
		if !c.idempotent {
			e.Kind = rtapi.Ambiguous // a write may have been applied before the failure
		}
	default:
		e.Kind = rtapi.Permanent
	}
	return e
}

func redactLocation(l string) string {
	if i := strings.IndexAny(l, "?#"); i >= 0 {
		l = l[:i]
	}
	return l
}

// Raw sends one request to a REST2 path (for `rtbridge rt --api rest2`) and
// returns the status and body; body may be nil. Non-2xx answers return the
// body and an *rtapi.Error. POST/PUT/DELETE are never retried.
func (cl *Client) Raw(ctx context.Context, method, path string, jsonBodyBytes []byte) (int, []byte, error) {
	c := &call{op: strings.ToLower(method) + " " + path, method: method, path: path, idempotent: method == http.MethodGet}
	if p, q, ok := strings.Cut(path, "?"); ok {
		vals, err := url.ParseQuery(q)
		if err != nil {
			return 0, nil, &rtapi.Error{Op: c.op, Kind: rtapi.Permanent, Err: err}
		}
		c.path, c.query = p, vals
	}
	if jsonBodyBytes != nil {
		c.body = jsonBytes(jsonBodyBytes)
	}
	status, b, _, err := cl.do(ctx, c)
	return status, b, err
}

// getJSON reads path into v.
func (cl *Client) getJSON(ctx context.Context, op, path string, q url.Values, v any) error {
	_, b, _, err := cl.do(ctx, &call{op: op, method: http.MethodGet, path: path, query: q, idempotent: true})
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return &rtapi.Error{Op: op, Path: path, Code: 200, Kind: rtapi.Permanent, Text: "answer is not the expected JSON", Err: err}
	}
	return nil
}
