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
	"cmp"
	"log/slog"
	"net/http"
	"net/url"
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
	root   *url.URL // web root, ends in "/"
	base   *url.URL // …/REST/2.0/
	origin string   // scheme://host[:port] of the URL, sent as Origin
	conn   *rtapi.Conn
	mpOver int64
	names  rtNameCache
}

// New checks cfg and returns a client; it does not contact RT.
func New(cfg Config) (*Client, error) {
	root, err := rtapi.WebRoot(cfg.URL)
	if err != nil {
		return nil, err
	}
	if cfg.Attempts <= 0 {
		cfg.Attempts = 3
	}
	c := &Client{root: root, base: root.ResolveReference(&url.URL{Path: "REST/2.0/"}), origin: root.Scheme + "://" + root.Host,
		mpOver: cfg.MultipartOver}
	c.conn = rtapi.NewConn(rtapi.ConnConfig{Root: root, Auth: cfg.Auth, HTTPClient: cfg.HTTPClient, Logger: cfg.Logger,
		Retry: rtapi.RetryPolicy{Attempts: cfg.Attempts}, Timeout: cfg.Timeout, UserAgent: cmp.Or(cfg.UserAgent, "rtbridge-rest2/1")})
	c.names.name = cfg.RTName
	if c.mpOver <= 0 {
		c.mpOver = 1 << 20
	}
	return c, nil
}

// BaseURL returns the REST2 base URL.
func (c *Client) BaseURL() string { return c.base.String() }
