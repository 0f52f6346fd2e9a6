// Package rest2 is an RT client over REST2 (/REST/2.0/, JSON; core in RT 5),
// with the operations and types of the REST 1.0 client rtapi.Client, so the
// bridge can use either (config rt.api: rest1 | rest2).
//
// What REST2 does better: real HTTP statuses with {"message": …}, UTC dates,
// paging, base64 or multipart attachments. Its traps are handled here: an
// update answers 200 with a list of messages even when refused ("Permission
// Denied"), which becomes an *rtapi.Error; unset dates read 1970-01-01 and
// become zero times; watchers are referenced by user Name.
package rest2

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/rtbridge/rtbridge/rtapi"
)

// Config configures a Client. Only URL is required.
type Config struct {
	// URL is RT's web root (https://rt.example.com/) or a REST base
	// (…/REST/2.0/ or …/REST/1.0/, as in the REST 1.0 config).
	URL string
	// Auth adds credentials (rtapi's token or basic authenticators, or
	// kerberos.Authenticator); nil sends none.
	Auth rtapi.Authenticator
	// HTTPClient supplies the transport; its Jar, Timeout and CheckRedirect
	// are not used (the client keeps RT's cookie and never follows redirects).
	HTTPClient *http.Client
	Logger     *slog.Logger
	// Attempts bounds tries of one call on transient failures (default 3),
	// with rtapi.RetryPolicy's backoff and Retry-After handling.
	Attempts int
	// Timeout bounds one attempt (default 60s).
	Timeout time.Duration
	// UserAgent must not contain "Mozilla": REST2 then answers auth failures
	// with a redirect to the login page. Default "rtbridge-rest2/1".
	UserAgent string
	// MultipartOver switches create/comment uploads from base64 JSON to
	// multipart when the attachments are larger in total (default 1 MiB).
	MultipartOver int64
	// RTName is RT's $rtname, for ticket link URIs (fsck.com-rt://<rtname>/ticket/N)
	// as REST 1.0 shows them; REST2 does not publish it, so by default it is
	// learnt from a ticket's link transactions.
	RTName string
}

// Client talks to one RT over REST2. Safe for concurrent use.
type Client struct {
	root    *url.URL // web root, ends in "/"
	base    *url.URL // …/REST/2.0/
	auth    rtapi.Authenticator
	hc      *http.Client
	log     *slog.Logger
	retry   rtapi.RetryPolicy
	timeout time.Duration
	ua      string
	mpOver  int64
	origin  string // scheme://host[:port] of the URL, sent as Origin with the cookie
	sess    *session
	names   rtNameCache
}

// New checks cfg and returns a client; it does not contact RT.
func New(cfg Config) (*Client, error) {
	root, err := rtapi.WebRoot(cfg.URL)
	if err != nil {
		return nil, err
	}
	c := &Client{root: root, auth: cfg.Auth, log: cfg.Logger, retry: rtapi.RetryPolicy{Attempts: cfg.Attempts},
		timeout: cfg.Timeout, ua: cfg.UserAgent, mpOver: cfg.MultipartOver}
	c.names.name = cfg.RTName
	c.base = root.ResolveReference(&url.URL{Path: "REST/2.0/"})
	c.origin = root.Scheme + "://" + root.Host
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.retry.Attempts <= 0 {
		c.retry.Attempts = 3
	}
	if c.timeout == 0 {
		c.timeout = 60 * time.Second
	}
	if c.ua == "" {
		c.ua = "rtbridge-rest2/1"
	}
	if c.mpOver <= 0 {
		c.mpOver = 1 << 20
	}
	var rt http.RoundTripper = http.DefaultTransport
	if cfg.HTTPClient != nil && cfg.HTTPClient.Transport != nil {
		rt = cfg.HTTPClient.Transport
	}
	c.sess = &session{endpoint: root.ResolveReference(&url.URL{Path: "REST/1.0/"}), origin: root}
	c.hc = &http.Client{
		Transport:     &cookieKeeper{next: rt, sess: c.sess},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	c.sess.client = c.hc
	return c, nil
}

// BaseURL returns the REST2 base URL.
func (c *Client) BaseURL() string { return c.base.String() }

// session is RT's RT_SID_* cookie, kept by hand (RT ≥ 5.0.4 marks it Secure,
// which a cookie jar would not send over http) and the rtapi.Session an
// Authenticator logs in through.
type session struct {
	endpoint *url.URL // REST 1.0 base, the conventional login target
	origin   *url.URL
	client   *http.Client

	mu      sync.Mutex
	name    string
	value   string
	loginMu sync.Mutex // serialises logins
}

func (s *session) HasSession() bool { s.mu.Lock(); defer s.mu.Unlock(); return s.value != "" }

func (s *session) Endpoint() *url.URL { u := *s.endpoint; return &u }

func (s *session) Login(ctx context.Context, do func(context.Context, *http.Client) error) error {
	s.loginMu.Lock()
	defer s.loginMu.Unlock()
	if s.HasSession() {
		return nil
	}
	return do(ctx, s.client)
}

func (s *session) cookie() (string, string) { s.mu.Lock(); defer s.mu.Unlock(); return s.name, s.value }

func (s *session) invalidate(sent string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sent == "" || s.value == sent {
		s.value = ""
	}
}

func (s *session) remember(resp *http.Response) {
	for _, ck := range resp.Cookies() {
		if !strings.HasPrefix(ck.Name, "RT_SID_") {
			continue
		}
		s.mu.Lock()
		if ck.MaxAge < 0 || ck.Value == "" {
			if ck.Name == s.name {
				s.value = ""
			}
		} else {
			s.name, s.value = ck.Name, ck.Value
		}
		s.mu.Unlock()
	}
}

// cookieKeeper records RT's cookie from every answer of RT's origin,
// including an authenticator's login requests.
type cookieKeeper struct {
	next http.RoundTripper
	sess *session
}

func (t *cookieKeeper) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if err == nil && strings.EqualFold(req.URL.Scheme, t.sess.origin.Scheme) && strings.EqualFold(req.URL.Host, t.sess.origin.Host) {
		t.sess.remember(resp)
	}
	return resp, err
}

func drain(body io.ReadCloser) {
	_, _ = io.Copy(io.Discard, io.LimitReader(body, 64<<10))
	_ = body.Close()
}
