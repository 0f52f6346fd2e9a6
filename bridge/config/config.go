// Package config loads rtbridge's one YAML file: strictly (an unknown key is
// an error naming FILE:LINE:COL), with secrets read from *_file paths,
// ${ENV} expansion and systemd credentials ($CREDENTIALS_DIRECTORY).
//
// Every section is decoded and checked here, once, with its defaults; only
// the rules and templates sections are kept as YAML nodes, compiled by
// package rules, which reports its own positions in the same file.
package config

import (
	"fmt"
	"time"

	"gopkg.in/yaml.v3"
)

// Config is the whole file.
type Config struct {
	RT       RT        `yaml:"rt"`
	State    State     `yaml:"state"`
	Log      Log       `yaml:"log"`
	HTTP     HTTP      `yaml:"http"`
	Webhooks []Webhook `yaml:"webhooks"`
	Executor Executor  `yaml:"executor"`

	// IMAP are the mailbox accounts (imap.go).
	IMAP []IMAP `yaml:"imap"`
	// MTA is mail from the local MTA (mailgate socket, LMTP; mta.go).
	MTA *MTA `yaml:"mta"`

	// Rules and Templates are compiled by package rules (rules.Compile).
	Rules     yaml.Node `yaml:"rules"`
	Templates yaml.Node `yaml:"templates"`
	// NoMatch is what happens to an event no rule matches (ignore with a
	// reason, or dead-letter); compiled by package rules with the rules.
	NoMatch yaml.Node `yaml:"no_match"`

	// File is the path the config was loaded from; relative paths in it are
	// resolved against its directory.
	File string `yaml:"-"`

	// pos maps a key path ("imap[0].ca_file") to its value node, so that a
	// problem found after Load (a CA file that does not parse) is reported
	// at its line and column too (ErrorIn).
	pos map[string]*yaml.Node
}

// SourceNames lists every configured event source: each webhook's name and
// each IMAP folder's NAME/FOLDER, the values a rule's `source:` can test.
func (c *Config) SourceNames() []string {
	names := []string{}
	for _, w := range c.Webhooks {
		names = append(names, w.Name)
	}
	for _, m := range c.IMAP {
		for _, f := range m.Folders {
			names = append(names, m.Name+"/"+f)
		}
	}
	if c.MTA != nil {
		names = append(names, c.MTA.Name)
	}
	return names
}

// CheckAPIAuth reports an rt.auth that rt.api cannot use.
func (r RT) CheckAPIAuth() error {
	if r.API == "rest2" && r.Auth != "token" && r.Auth != "basic" && r.Auth != "kerberos" {
		return fmt.Errorf("rt.api rest2 needs rt.auth token, basic or kerberos (REST2 has no login form); got %q", r.Auth)
	}
	return nil
}

// RT is how to reach Request Tracker.
type RT struct {
	URL                string        `yaml:"url"`  // base URL (https://rt.example.com/) or …/REST/1.0/
	API                string        `yaml:"api"`  // rest1 (default) or rest2
	Auth               string        `yaml:"auth"` // basic, query, cookie (default; basic with rest2), token, kerberos
	User               string        `yaml:"user"`
	Password           Secret        `yaml:"password"`
	PasswordFile       string        `yaml:"password_file"`
	Token              Secret        `yaml:"token"`
	TokenFile          string        `yaml:"token_file"`
	Timeout            time.Duration `yaml:"timeout"` // per request; default 30s
	CAFile             string        `yaml:"ca_file"`
	InsecureSkipVerify bool          `yaml:"insecure_skip_verify"`
	// AllowPlaintext accepts an http:// URL to a host other than loopback
	// with a password or token (rtplain.go).
	AllowPlaintext bool `yaml:"allow_plaintext"`
	// IdempotencyField names a ticket custom field in which every created
	// ticket records its event key, so an ambiguous create is reconciled by
	// searching RT instead of creating a second ticket.
	IdempotencyField string `yaml:"idempotency_field"`
	// MaxConcurrency bounds concurrent RT requests (RT on SQLite gains
	// nothing from more than 1 writer).
	MaxConcurrency int `yaml:"max_concurrency"`
	// Kerberos is used with auth: kerberos.
	Kerberos *Kerberos `yaml:"kerberos"`
}

// State is where the durable store lives.
type State struct {
	Dir string `yaml:"dir"` // default /var/lib/rtbridge
	// Postgres, when set, puts the store in PostgreSQL (see postgres.go).
	Postgres *Postgres `yaml:"postgres"`
	// Retention is how long finished events are kept (retention.go).
	Retention Retention `yaml:"retention"`
}

// Log configures log/slog output.
type Log struct {
	Level  string `yaml:"level"`  // debug, info (default), warn, error
	Format string `yaml:"format"` // text (default) or json
}

// HTTP is the HTTP server: webhooks, and /healthz, /readyz, /metrics and
// /status unless those have their own admin_listen (http_admin.go).
type HTTP struct {
	Listen string `yaml:"listen"` // host:port; default 127.0.0.1:8080
	TLS    *TLS   `yaml:"tls"`    // absent: plain HTTP (put a TLS proxy in front)
	// MaxBodyBytes bounds a webhook request body (413 above it); default 1 MiB.
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
	// ShutdownTimeout bounds how long requests in flight may take after a
	// stop was asked for; default 10s.
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
	// Limits caps connections, concurrent bodies and replays (http_limits.go).
	Limits HTTPLimits `yaml:"limits"`
	// AdminListen (host:port) serves the admin endpoints on their own
	// listener; empty: on Listen.
	AdminListen string `yaml:"admin_listen"`
	// AdminAuth guards the admin endpoints: bearer or basic; absent (or
	// none): no credentials asked.
	AdminAuth Auth `yaml:"admin_auth"`
}

// TLS names the server's certificate and key (PEM files).
type TLS struct {
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
}

// Webhook kinds.
const (
	KindJSON         = "json"
	KindAlertmanager = "alertmanager"
	KindGrafana      = "grafana"
)

// Webhook is one HTTP endpoint; every endpoint is its own event source.
type Webhook struct {
	Name string `yaml:"name"` // source name (unique among all sources)
	Path string `yaml:"path"` // e.g. /hooks/deploy; must start with /
	Kind string `yaml:"kind"` // json (default), alertmanager, grafana
	Auth Auth   `yaml:"auth"` // required; "none" must be said explicitly
	// MaxBodyBytes overrides http.max_body_bytes for this endpoint.
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
	// DedupHeader names a request header carrying a delivery id (e.g.
	// X-GitHub-Delivery); a second request with the same id is recorded as a
	// duplicate. The Idempotency-Key header is always honoured.
	DedupHeader string `yaml:"dedup_header"`
}

// Auth is a webhook's authentication: exactly one of Bearer, Basic and HMAC,
// or None (written as the scalar `auth: none`).
type Auth struct {
	None   bool        `yaml:"-"`
	Bearer *BearerAuth `yaml:"bearer"`
	Basic  *BasicAuth  `yaml:"basic"`
	HMAC   *HMACAuth   `yaml:"hmac"`
}

// fromScalar accepts `auth: none`.
func (a *Auth) fromScalar(s string) string {
	if s != "none" {
		return `must be "none" or a mapping with one of bearer, basic, hmac`
	}
	a.None = true
	return ""
}

// Method names the configured method for logs and errors.
func (a Auth) Method() string {
	switch {
	case a.None:
		return "none"
	case a.Bearer != nil:
		return "bearer"
	case a.Basic != nil:
		return "basic"
	case a.HMAC != nil:
		return "hmac"
	}
	return ""
}

// BearerAuth expects "Authorization: Bearer <token>".
type BearerAuth struct {
	Token     Secret `yaml:"token"`
	TokenFile string `yaml:"token_file"`
}

// BasicAuth expects HTTP basic authentication.
type BasicAuth struct {
	Username     string `yaml:"username"`
	Password     Secret `yaml:"password"`
	PasswordFile string `yaml:"password_file"`
}

// HMACAuth expects a signature of the body in a header (the alerts source
// defines the exact scheme; see package alerts).
type HMACAuth struct {
	// Style is github (X-Hub-Signature-256: sha256=<hex>) or grafana (hex
	// in X-Grafana-Alerting-Signature, optionally over "<ts>:<body>");
	// default grafana on grafana endpoints, github elsewhere.
	Style      string `yaml:"style"`
	Header     string `yaml:"header"` // overrides the style's header name
	Secret     Secret `yaml:"secret"`
	SecretFile string `yaml:"secret_file"`
	// TimestampHeader (grafana style) names the header with the Unix time
	// that is part of the signed string; ReplayWindow bounds its age
	// (default 5m).
	TimestampHeader string        `yaml:"timestamp_header"`
	ReplayWindow    time.Duration `yaml:"replay_window"`
}

// Executor tunes the workers that run plans against RT.
type Executor struct {
	Workers     int           `yaml:"workers"`      // concurrent events; default 4
	MaxAttempts int           `yaml:"max_attempts"` // per step, then dead; default 10
	MaxAge      time.Duration `yaml:"max_age"`      // an event older than this is dead instead of retried; default 24h
	Backoff     Backoff       `yaml:"backoff"`
	Breaker     Breaker       `yaml:"breaker"`
	// StopTimeout bounds how long a stop waits for steps in flight before
	// they are cancelled (and reconciled on the next start); default 20s.
	StopTimeout time.Duration `yaml:"stop_timeout"`
}

// Backoff is the retry schedule: Initial doubling up to Max, with jitter.
type Backoff struct {
	Initial time.Duration `yaml:"initial"` // default 5s
	Max     time.Duration `yaml:"max"`     // default 10m
}

// Breaker is the per-RT circuit breaker.
type Breaker struct {
	Failures int           `yaml:"failures"` // consecutive transient failures that open it; default 5
	OpenFor  time.Duration `yaml:"open_for"` // pause before a probe; default 30s
}
