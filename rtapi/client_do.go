package rtapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/rtbridge/rtbridge/rtapi/form"
)

// call is one logical REST request; the client may send it several times.
type call struct {
	op         string     // for errors and logs, e.g. "create ticket"
	path       string     // REST path, e.g. "ticket/new"
	query      url.Values // URL parameters (reads: fields, format, …)
	params     []param    // body parameters, "content" first (nil for a GET)
	atts       []Attachment
	idempotent bool           // repeating it cannot do harm (reads, set-style edits)
	body       *multipartBody // built on the first attempt, reused by the others
}

type param struct{ key, value string }

func (r *call) write() bool { return r.params != nil }

// exchange runs r and returns RT's parsed answer, or an *Error. On an RT
// refusal the parsed answer is returned as well.
func (c *Client) exchange(ctx context.Context, r *call) (*form.Response, error) {
	var out *form.Response
	err := c.run(ctx, r, func(res *http.Response, sent func() bool, _ context.CancelFunc) (int, bool, *Error) {
		body, rerr := io.ReadAll(io.LimitReader(res.Body, c.maxBody+1))
		if rerr != nil {
			return 0, false, transportError(ctx, r.op, r.path, rerr, sent(), r.idempotent)
		}
		if int64(len(body)) > c.maxBody {
			return 0, false, &Error{Op: r.op, Path: r.path, Kind: Permanent, Text: fmt.Sprintf("answer larger than %d bytes", c.maxBody)}
		}
		resp, perr := form.Parse(body)
		if perr != nil {
			e := notRTError(r.op, r.path, res, len(body))
			e.Err = perr
			return 0, false, e
		}
		out = resp
		if resp.Code == http.StatusUnauthorized {
			return resp.Code, false, nil
		}
		if err := classify(r.op, r.path, resp, r.write()); err != nil {
			var ce *Error
			if !errors.As(err, &ce) {
				ce = &Error{Op: r.op, Path: r.path, Kind: Permanent, Err: err}
			}
			return resp.Code, false, ce
		}
		return resp.Code, false, nil
	})
	return out, err
}

// finisher consumes an HTTP 200 answer. It returns RT's status code (401
// triggers the one re-login), whether it keeps the body open for its caller
// (then it owns res.Body and must call release when done), and the error of
// a failed attempt (never together with keep). sent reports whether the
// whole request had been written.
type finisher func(res *http.Response, sent func() bool, release context.CancelFunc) (rtCode int, keep bool, e *Error)

// run sends r until it succeeds, fails for good, or the retry policy gives
// up. It handles RT's "401 Credentials required" by one fresh login.
func (c *Client) run(ctx context.Context, r *call, finish finisher) error {
	relogged := false
	for attempt := 1; ; attempt++ {
		e := c.attempt(ctx, r, attempt, finish)
		if e == nil {
			return nil
		}
		if e.Code == http.StatusUnauthorized && e.Kind == Auth && !relogged && c.auth != nil {
			// RT refused before running the handler, so even a write is
			// safe to repeat once with fresh credentials.
			relogged = true
			attempt--
			continue
		}
		if !c.retry.wait(ctx, attempt, e) {
			return e
		}
	}
}

// attempt sends r once. The 401 case invalidates the session and resets the
// authenticator before returning an Auth error.
func (c *Client) attempt(ctx context.Context, r *call, n int, finish finisher) (e *Error) {
	start := time.Now()
	actx, cancel := c.attemptContext(ctx)
	keep := false
	defer func() {
		if !keep {
			cancel()
		}
	}()
	var sent atomic.Bool
	trace := &httptrace.ClientTrace{WroteRequest: func(info httptrace.WroteRequestInfo) {
		if info.Err == nil {
			sent.Store(true)
		}
	}}
	req, err := c.newRequest(httptrace.WithClientTrace(actx, trace), r)
	if err != nil {
		return &Error{Op: r.op, Path: r.path, Kind: Permanent, Err: err}
	}
	status := 0
	defer func() { c.logAttempt(ctx, req, r, n, status, start, e) }()
	// Authenticate first: a cookie authenticator may log in here.
	if c.auth != nil {
		if err := c.auth.Authenticate(actx, req, c.sess); err != nil {
			return AuthenticatorError(r.op, r.path, err)
		}
	}
	cookie := ""
	if !c.stateless {
		if name, value := c.sess.cookie(); value != "" {
			req.AddCookie(&http.Cookie{Name: name, Value: value})
			cookie = value
		}
	}
	res, err := c.hc.Do(req)
	if err != nil {
		var ae *attachmentError
		if errors.As(err, &ae) {
			return &Error{Op: r.op, Path: r.path, Kind: Permanent, Err: ae}
		}
		return transportError(ctx, r.op, r.path, err, sent.Load(), r.idempotent)
	}
	status = res.StatusCode
	if res.StatusCode != http.StatusOK {
		drain(res.Body)
		e = httpStatusError(r.op, r.path, res, r.idempotent)
	} else {
		var rtCode int
		rtCode, keep, e = finish(res, sent.Load, cancel)
		if rtCode != 0 {
			status = rtCode
		}
		if rtCode == http.StatusUnauthorized {
			e = &Error{Op: r.op, Path: r.path, Code: 401, Text: "Credentials required", Kind: Auth}
		} else if rtCode != 0 && !c.stateless {
			c.sess.accept(res)
		}
		if e != nil {
			keep = false
		}
		if !keep {
			drain(res.Body)
		}
	}
	if e != nil && e.Code == http.StatusUnauthorized {
		c.sess.invalidate(cookie)
		if c.auth != nil {
			c.auth.Reset()
		}
	}
	return e
}

func (c *Client) attemptContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if c.timeout < 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, c.timeout)
}

// newRequest builds the HTTP request for one attempt of r.
func (c *Client) newRequest(ctx context.Context, r *call) (*http.Request, error) {
	u, err := c.resolve(r.path, r.query)
	if err != nil {
		return nil, err
	}
	var req *http.Request
	switch {
	case !r.write():
		req, err = http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	case len(r.atts) == 0:
		var b strings.Builder
		for i, p := range r.params {
			if i > 0 {
				b.WriteByte('&')
			}
			b.WriteString(url.QueryEscape(p.key))
			b.WriteByte('=')
			b.WriteString(url.QueryEscape(p.value))
		}
		req, err = http.NewRequestWithContext(ctx, http.MethodPost, u.String(), strings.NewReader(b.String()))
		if err == nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
	default:
		if r.body == nil {
			r.body = newMultipartBody(r.params, r.atts)
		}
		req, err = http.NewRequestWithContext(ctx, http.MethodPost, u.String(), nil)
		if err == nil {
			err = r.body.attach(req)
		}
	}
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", c.ua)
	return req, nil
}

// Get reads a REST path (no content: RT treats it as a read) and returns the
// parsed answer. On an RT refusal (after the seed's mapping, e.g. "# Ticket 9
// does not exist." → 404) both the answer and an *Error are returned.
func (c *Client) Get(ctx context.Context, path string, query url.Values) (*form.Response, error) {
	return c.exchange(ctx, &call{op: "get " + path, path: path, query: query, idempotent: true})
}

// Post sends f as the "content" parameter of path, with attachments as
// multipart parts (see Attachment). It is treated as a write that must not
// be repeated once it may have reached RT. An empty f sends no content
// parameter (RT then treats the request as a read).
func (c *Client) Post(ctx context.Context, path string, f form.Form, attachments []Attachment) (*form.Response, error) {
	r := &call{op: "post " + path, path: path, atts: attachments}
	if err := r.setContent(f, attachments); err != nil {
		return nil, &Error{Op: r.op, Path: path, Kind: Permanent, Err: err}
	}
	return c.exchange(ctx, r)
}

// setContent encodes f as the content parameter, adding the Attachment:
// field that binds attachment_i to the i-th name.
func (r *call) setContent(f form.Form, atts []Attachment) error {
	if len(atts) > 0 {
		names := make([]string, len(atts))
		for i, a := range atts {
			names[i] = attachmentName(a.Name, i)
		}
		list, err := form.JoinList(names)
		if err != nil {
			return err
		}
		f = append(append(form.Form{}, f...), form.Field{Key: "Attachment", Value: list})
	}
	if len(f) == 0 {
		r.params = []param{}
		return nil
	}
	b, err := f.Encode()
	if err != nil {
		return err
	}
	r.params = []param{{"content", string(b)}}
	return nil
}

// logAttempt writes the one debug line per attempt. Only the path is logged
// (never the query, which may hold user/pass), and no header.
func (c *Client) logAttempt(ctx context.Context, req *http.Request, r *call, n, status int, start time.Time, e *Error) {
	attrs := []any{
		"method", req.Method,
		"path", r.path,
		"status", status,
		"duration", time.Since(start).Round(time.Microsecond),
		"attempt", n,
	}
	if c.auth != nil {
		attrs = append(attrs, "auth", c.auth.Name())
	}
	if len(r.atts) > 0 {
		attrs = append(attrs, "attachments", len(r.atts))
	}
	if e != nil {
		attrs = append(attrs, "kind", e.Kind.String(), "err", e.Error())
	}
	c.log.DebugContext(ctx, "rt request", attrs...)
}
