package rtapi

import (
	"cmp"
	"log/slog"
	"net/http"
	"net/url"
	"time"
)

// Config configures a Client. Only URL is required.
type Config struct {
	// URL is RT's web root (https://rt.example.com/, https://example.com/rt/)
	// or its REST 1.0 base (https://rt.example.com/REST/1.0/, the seed's form).
	URL string
	// Auth adds credentials; nil sends none (only NoAuth paths work then).
	Auth Authenticator
	// HTTPClient supplies the transport (TLS settings, proxies). Its Jar,
	// Timeout and CheckRedirect are not used: the client keeps RT's session
	// cookie itself, times each attempt with Timeout and never follows
	// redirects (RT redirects only to login or SelfService pages).
	HTTPClient *http.Client
	// Logger gets one debug line per attempt; nil discards.
	Logger *slog.Logger
	// Retry bounds retries of transient failures; the zero value means
	// DefaultRetryPolicy.
	Retry RetryPolicy
	// Timeout bounds one attempt, including reading the answer (for
	// AttachmentContent: until the body is closed). 0 means 60s; negative
	// means no per-attempt limit (the caller's context still applies).
	Timeout time.Duration
	// UserAgent is sent on every request; default "rtbridge-rtapi/1".
	UserAgent string
	// Location is the RT user's timezone: RT shows ticket dates and reads
	// dates sent to it in that zone. nil means UTC (use a UTC service account).
	Location *time.Location
	// MaxResponseBytes bounds a parsed answer (not /content streams);
	// default 256 MiB. A larger answer is a permanent error.
	MaxResponseBytes int64
}

// Client talks to one RT over REST 1.0. It is safe for concurrent use.
type Client struct {
	*conn
	base    *url.URL // …/REST/1.0/
	maxBody int64
	loc     *time.Location
	cfk     cfKindCache
}

// New checks cfg and returns a client. It does not contact RT.
func New(cfg Config) (*Client, error) {
	root, err := WebRoot(cfg.URL)
	if err != nil {
		return nil, err
	}
	conn := newConn(ConnConfig{Root: root, Auth: cfg.Auth, HTTPClient: cfg.HTTPClient, Logger: cfg.Logger,
		Retry: cfg.Retry, Timeout: cfg.Timeout, UserAgent: cmp.Or(cfg.UserAgent, "rtbridge-rtapi/1")})
	c := &Client{conn: conn, base: conn.sess.endpoint, maxBody: cfg.MaxResponseBytes, loc: cfg.Location}
	if c.loc == nil {
		c.loc = time.UTC
	}
	if c.maxBody <= 0 {
		c.maxBody = 256 << 20
	}
	return c, nil
}

// BaseURL returns the REST 1.0 base URL the client uses (without credentials).
func (c *Client) BaseURL() string { return c.base.String() }

// resolve returns the absolute URL of a REST path such as "ticket/17/show".
func (c *Client) resolve(path string, query url.Values) (*url.URL, error) {
	return ResolvePath(c.base, "REST/1.0/", path, query)
}
