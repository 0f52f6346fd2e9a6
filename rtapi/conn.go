package rtapi

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"sync/atomic"
	"time"
)

// Conn is what the REST 1.0 client and the REST2 client (rtapi/rest2)
// share: the transport, the authenticator, RT's session cookie and the
// attempt loop (per-attempt timeout, one fresh login after a 401, retries
// of transient failures by the RetryPolicy). Safe for concurrent use.
type Conn struct{ c *conn }

// conn is Conn's state; Client embeds it.
type conn struct {
	hc        *http.Client
	auth      Authenticator
	stateless bool
	sess      *session
	retry     RetryPolicy
	timeout   time.Duration
	ua        string
	log       *slog.Logger
}

// ConnConfig configures a Conn; the fields mean what Config's do.
type ConnConfig struct {
	Root       *url.URL // RT's web root, as WebRoot returns it
	Auth       Authenticator
	HTTPClient *http.Client
	Logger     *slog.Logger
	Retry      RetryPolicy
	Timeout    time.Duration
	UserAgent  string
}

// NewConn returns a Conn; it does not contact RT.
func NewConn(cfg ConnConfig) *Conn { return &Conn{newConn(cfg)} }

func newConn(cfg ConnConfig) *conn {
	var rt http.RoundTripper = http.DefaultTransport
	if cfg.HTTPClient != nil && cfg.HTTPClient.Transport != nil {
		rt = cfg.HTTPClient.Transport
	}
	c := &conn{
		hc:      &http.Client{Transport: rt, CheckRedirect: noRedirect},
		auth:    cfg.Auth,
		sess:    &session{endpoint: cfg.Root.ResolveReference(&url.URL{Path: "REST/1.0/"}), rt: rt},
		retry:   cfg.Retry.withDefaults(),
		timeout: cfg.Timeout,
		ua:      cfg.UserAgent,
		log:     cfg.Logger,
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.timeout == 0 {
		c.timeout = 60 * time.Second
	}
	if s, ok := cfg.Auth.(Stateless); ok && s.Stateless() {
		c.stateless = true
	}
	return c
}

// Exchange is one logical request; Conn.Do may send it several times.
type Exchange struct {
	Op         string // for errors and logs, e.g. "create ticket"
	Path       string // REST path without credentials, e.g. "ticket/new"
	Idempotent bool   // repeating it cannot do harm (reads, set-style edits)
	// New builds the HTTP request of one attempt; a retry builds it again
	// (and so re-reads attachments).
	New func(ctx context.Context) (*http.Request, error)
	// Finish consumes an answer. It returns RT's status (401 makes Do log
	// in again, once), whether it keeps res.Body open for its caller (then
	// the caller must call release when done) and the attempt's error
	// (never together with keep). sent reports whether the whole request
	// had been written.
	Finish func(res *http.Response, sent func() bool, release context.CancelFunc) (code int, keep bool, e *Error)
}

// Do sends x until it succeeds, fails for good, or the retry policy gives
// up. RT's "401 Credentials required" gets one fresh login: RT refused
// before running the handler, so even a write is safe to repeat once.
func (c *Conn) Do(ctx context.Context, x *Exchange) error { return c.c.do(ctx, x) }

func (c *conn) do(ctx context.Context, x *Exchange) error {
	relogged := false
	for n := 1; ; n++ {
		e := c.attempt(ctx, x, n)
		if e == nil {
			return nil
		}
		if e.Code == http.StatusUnauthorized && e.Kind == Auth && !relogged && c.auth != nil {
			relogged = true
			n--
			continue
		}
		if !c.retry.wait(ctx, n, e) {
			return e
		}
	}
}

// attempt sends x once. A 401 drops the session cookie and resets the
// authenticator before the Auth error is returned.
func (c *conn) attempt(ctx context.Context, x *Exchange, n int) (e *Error) {
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
	req, err := x.New(httptrace.WithClientTrace(actx, trace))
	if err != nil {
		return &Error{Op: x.Op, Path: x.Path, Kind: Permanent, Err: err}
	}
	req.Header.Set("User-Agent", c.ua)
	status := 0
	defer func() { c.logAttempt(ctx, req, x, n, status, start, e) }()
	// Authenticate first: a cookie or Kerberos authenticator may log in here.
	if c.auth != nil {
		if err := c.auth.Authenticate(actx, req, c.sess); err != nil {
			if req.Body != nil {
				_ = req.Body.Close() // never sent: release the attachments
			}
			return authenticatorError(x.Op, x.Path, err)
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
			return &Error{Op: x.Op, Path: x.Path, Kind: Permanent, Err: ae}
		}
		return transportError(ctx, x.Op, x.Path, err, sent.Load(), x.Idempotent)
	}
	status = res.StatusCode
	var code int
	code, keep, e = x.Finish(res, sent.Load, cancel)
	if code != 0 {
		status = code
	}
	switch {
	case code == http.StatusUnauthorized && e == nil:
		e = &Error{Op: x.Op, Path: x.Path, Code: 401, Text: "Credentials required", Kind: Auth}
	case code != 0 && code != http.StatusUnauthorized && !c.stateless && (e == nil || e.Code != http.StatusUnauthorized):
		// RT answered as an authenticated user: keep the cookie it set.
		c.sess.accept(res)
	}
	if e != nil {
		keep = false
	}
	if !keep {
		Drain(res.Body)
	}
	if e != nil && e.Code == http.StatusUnauthorized {
		c.sess.invalidate(cookie)
		if c.auth != nil {
			c.auth.Reset()
		}
	}
	return e
}

func (c *conn) attemptContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if c.timeout < 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, c.timeout)
}

// logAttempt writes the one debug line per attempt. Only the path is logged
// (never the query, which may hold user/pass), and no header.
func (c *conn) logAttempt(ctx context.Context, req *http.Request, x *Exchange, n, status int, start time.Time, e *Error) {
	attrs := []any{
		"op", x.Op,
		"method", req.Method,
		"path", x.Path,
		"status", status,
		"duration", time.Since(start).Round(time.Microsecond),
		"attempt", n,
	}
	if c.auth != nil {
		attrs = append(attrs, "auth", c.auth.Name())
	}
	if e != nil {
		attrs = append(attrs, "kind", e.Kind.String(), "err", e.Error())
	}
	c.log.DebugContext(ctx, "rt request", attrs...)
}

// Drain reads a little of an unwanted body, so that the connection can be
// reused, and closes it.
func Drain(body io.ReadCloser) {
	_, _ = io.Copy(io.Discard, io.LimitReader(body, 64<<10))
	_ = body.Close()
}
