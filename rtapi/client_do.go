package rtapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

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

// finisher consumes an HTTP 200 answer, as Exchange.Finish.
type finisher func(res *http.Response, sent func() bool, release context.CancelFunc) (rtCode int, keep bool, e *Error)

// run sends r through the shared attempt loop. REST 1.0 answers HTTP 200
// for all of RT's own outcomes, so any other status is not RT's answer.
func (c *Client) run(ctx context.Context, r *call, finish finisher) error {
	return c.do(ctx, &Exchange{
		Op: r.op, Path: r.path, Idempotent: r.idempotent,
		New: func(ctx context.Context) (*http.Request, error) { return c.newRequest(ctx, r) },
		Finish: func(res *http.Response, sent func() bool, release context.CancelFunc) (int, bool, *Error) {
			if res.StatusCode != http.StatusOK {
				return 0, false, httpStatusError(r.op, r.path, res, r.idempotent)
			}
			return finish(res, sent, release)
		},
	})
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
	return req, err
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
	return c.send(ctx, &call{op: "post " + path, path: path, atts: attachments}, f, nil)
}

// send runs the write r with f (and r.atts) as its content. A form that
// could not be built (ferr) or encoded is a Permanent *Error, never sent.
func (c *Client) send(ctx context.Context, r *call, f form.Form, ferr error) (*form.Response, error) {
	if ferr == nil {
		ferr = r.setContent(f, r.atts)
	}
	if ferr != nil {
		return nil, &Error{Op: r.op, Path: r.path, Kind: Permanent, Err: ferr}
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
