package config

import "time"

// Defaults, all in one place.
const (
	DefaultStateDir        = "/var/lib/rtbridge"
	DefaultListen          = "127.0.0.1:8080"
	DefaultMaxBodyBytes    = 1 << 20
	DefaultRTTimeout       = 30 * time.Second
	DefaultHTTPShutdown    = 10 * time.Second
	DefaultWorkers         = 4
	DefaultMaxAttempts     = 10
	DefaultMaxAge          = 24 * time.Hour
	DefaultBackoffInitial  = 5 * time.Second
	DefaultBackoffMax      = 10 * time.Minute
	DefaultBreakerFailures = 5
	DefaultBreakerOpenFor  = 30 * time.Second
	DefaultStopTimeout     = 20 * time.Second
)

func setDefault[T comparable](v *T, def T) {
	var zero T
	if *v == zero {
		*v = def
	}
}

func (c *Config) applyDefaults() {
	c.RT.ApplyDefaults()
	setDefault(&c.State.Dir, DefaultStateDir)
	c.State.Retention.applyDefaults()
	setDefault(&c.Log.Level, "info")
	setDefault(&c.Log.Format, "text")
	setDefault(&c.HTTP.Listen, DefaultListen)
	setDefault(&c.HTTP.MaxBodyBytes, DefaultMaxBodyBytes)
	setDefault(&c.HTTP.ShutdownTimeout, DefaultHTTPShutdown)
	for i := range c.Webhooks {
		w := &c.Webhooks[i]
		setDefault(&w.Kind, KindJSON)
		setDefault(&w.MaxBodyBytes, c.HTTP.MaxBodyBytes)
		if h := w.Auth.HMAC; h != nil && w.Kind == KindGrafana {
			setDefault(&h.Style, "grafana")
		} else if h != nil {
			setDefault(&h.Style, "github")
		}
	}
	for i := range c.IMAP {
		c.IMAP[i].applyDefaults()
	}
	e := &c.Executor
	setDefault(&e.Workers, DefaultWorkers)
	setDefault(&e.MaxAttempts, DefaultMaxAttempts)
	setDefault(&e.MaxAge, DefaultMaxAge)
	setDefault(&e.Backoff.Initial, DefaultBackoffInitial)
	setDefault(&e.Backoff.Max, DefaultBackoffMax)
	setDefault(&e.Breaker.Failures, DefaultBreakerFailures)
	setDefault(&e.Breaker.OpenFor, DefaultBreakerOpenFor)
	setDefault(&e.StopTimeout, DefaultStopTimeout)
}

// ApplyDefaults completes an RT section (also one built from command-line
// flags): REST 1.0; cookie login, or basic for REST2, which has no login
// form; 30s per request; one request at a time.
func (r *RT) ApplyDefaults() {
	setDefault(&r.API, "rest1")
	if r.API == "rest2" {
		setDefault(&r.Auth, "basic")
	}
	setDefault(&r.Auth, "cookie")
	setDefault(&r.Timeout, DefaultRTTimeout)
	setDefault(&r.MaxConcurrency, 1)
}
