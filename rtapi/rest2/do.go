package rest2

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/rtbridge/rtbridge/rtapi"
)

// body builds a request body for one attempt, so a retry re-reads files.
type body func() (r io.Reader, contentType string, err error)

// jsonBody encodes v once; every attempt sends the same bytes.
func jsonBody(v any) (body, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return func() (io.Reader, string, error) {
		return bytes.NewReader(b), "application/json", nil
	}, nil
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

// do runs c until success, a non-retryable error or the retry policy gives up
// (rtapi's, as for REST 1.0), and returns the answer's status and body (at
// most 256 MiB).
func (cl *Client) do(ctx context.Context, c *call) (int, []byte, http.Header, error) {
	reauthed := false
	for n := 1; ; n++ {
		status, b, h, e := cl.attempt(ctx, c)
		if e == nil {
			return status, b, h, nil
		}
		if e.Code == http.StatusUnauthorized && !reauthed && cl.auth != nil {
			reauthed = true // one fresh login, as bin/rt does
			n--
			continue
		}
		if !cl.retry.Wait(ctx, n, e) {
			return status, b, h, e
		}
	}
}

func (cl *Client) attempt(ctx context.Context, c *call) (int, []byte, http.Header, *rtapi.Error) {
	actx, cancel := context.WithTimeout(ctx, cl.timeout)
	defer cancel()
	var sent atomic.Bool
	actx = httptrace.WithClientTrace(actx, &httptrace.ClientTrace{WroteRequest: func(i httptrace.WroteRequestInfo) {
		if i.Err == nil {
			sent.Store(true)
		}
	}})
	u, err := cl.resolve(c.path, c.query)
	if err != nil {
		return 0, nil, nil, &rtapi.Error{Op: c.op, Path: c.path, Kind: rtapi.Permanent, Err: err}
	}
	var rd io.Reader
	ctype := ""
	if c.body != nil {
		if rd, ctype, err = c.body(); err != nil {
			return 0, nil, nil, &rtapi.Error{Op: c.op, Path: c.path, Kind: rtapi.Permanent, Err: err}
		}
	}
	req, err := http.NewRequestWithContext(actx, c.method, u.String(), rd)
	if err != nil {
		return 0, nil, nil, &rtapi.Error{Op: c.op, Path: c.path, Kind: rtapi.Permanent, Err: err}
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", cl.ua)
	if cl.auth != nil {
		if err := cl.auth.Authenticate(actx, req, cl.sess); err != nil {
			return 0, nil, nil, rtapi.AuthenticatorError(c.op, c.path, err)
		}
	}
	name, sentCookie := cl.sess.cookie()
	if sentCookie != "" {
		req.AddCookie(&http.Cookie{Name: name, Value: sentCookie})
		// RT applies its referrer check ($RestrictReferrer) to REST2 writes
		// authenticated by the session cookie: name RT's own URL.
		req.Header.Set("Origin", cl.origin)
		req.Header.Set("Referer", cl.root.String())
	}
	start := time.Now()
	resp, err := cl.hc.Do(req)
	if err != nil {
		if rc, ok := rd.(io.Closer); ok {
			_ = rc.Close()
		}
		return 0, nil, nil, rtapi.TransportError(ctx, c.op, c.path, err, sent.Load(), c.idempotent)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	cl.log.DebugContext(ctx, "rt rest2", "op", c.op, "method", c.method, "path", c.path,
		"status", resp.StatusCode, "duration", time.Since(start))
	if err != nil {
		return 0, nil, nil, rtapi.TransportError(ctx, c.op, c.path, err, true, c.idempotent)
	}
	if e := statusError(c, resp, b); e != nil {
		if e.Code == http.StatusForbidden && sentCookie != "" && e.Text == csrfRefusal {
			e.Kind, e.Err = rtapi.Auth, &rtapi.CSRFError{Origin: cl.origin}
		}
		if e.Code == http.StatusUnauthorized {
			cl.sess.invalidate(sentCookie)
			if cl.auth != nil {
				cl.auth.Reset()
			}
		}
		return resp.StatusCode, b, resp.Header, e
	}
	return resp.StatusCode, b, resp.Header, nil
}

// resolve returns the URL of a REST2 path such as "ticket/17".
func (cl *Client) resolve(path string, q url.Values) (*url.URL, error) {
	path = strings.TrimLeft(path, "/")
	if p, ok := strings.CutPrefix(path, "REST/2.0/"); ok {
		path = p
	}
	rel, err := url.Parse(path)
	if err != nil || rel.IsAbs() || rel.Host != "" || strings.Contains(path, "..") {
		return nil, fmt.Errorf("rest2: invalid path %q", path)
	}
	u := cl.base.ResolveReference(rel)
	if len(q) > 0 {
		merged := u.Query()
		for k, vs := range q {
			merged[k] = append(merged[k], vs...)
		}
		u.RawQuery = merged.Encode()
	}
	return u, nil
}

// csrfRefusal is REST2's message when its referrer check refuses a request.
const csrfRefusal = "Cross-site request forgery protection refused this request"

// statusError maps a non-2xx answer to *rtapi.Error: Code is the HTTP status,
// Text RT's {"message": …}.
func statusError(c *call, resp *http.Response, b []byte) *rtapi.Error {
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
		c.body = func() (io.Reader, string, error) {
			return bytes.NewReader(jsonBodyBytes), "application/json", nil
		}
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

func jsonInto(b []byte, v any) error { return json.Unmarshal(b, v) }
