package config

import "time"

// HTTPLimits bounds what senders can make the HTTP server hold at once
// (`http.limits`). In the file, 0 or absent means the default and a negative
// count means no limit. Changes take effect at restart.
type HTTPLimits struct {
	// MaxConnections caps open connections on the listener; further ones
	// wait in the kernel's accept queue. Default 1024.
	MaxConnections int `yaml:"max_connections"`
	// MaxConnectionsPerClient caps open connections from one IP address;
	// further ones are closed at once. Default 32. Behind a reverse proxy
	// every connection comes from the proxy: set -1 there and cap clients
	// in the proxy.
	MaxConnectionsPerClient int `yaml:"max_connections_per_client"`
	// MaxConcurrentBodies caps webhook bodies being read or held at once,
	// so bodies in memory stay below this times max_body_bytes. Default 64.
	MaxConcurrentBodies int `yaml:"max_concurrent_bodies"`
	// BodyWait is how long a request waits for a body slot before it is
	// answered 503 with Retry-After. Default 2s.
	BodyWait time.Duration `yaml:"body_wait"`
	// ReplayDedupWindow is how long the digest of an HMAC-signed request is
	// remembered: the same signed bytes again within it are a duplicate that
	// changes nothing. Default 24h (for Grafana style at least twice its
	// replay_window).
	ReplayDedupWindow time.Duration `yaml:"replay_dedup_window"`
}

// HTTP limit defaults.
const (
	DefaultMaxConnections          = 1024
	DefaultMaxConnectionsPerClient = 32
	DefaultMaxConcurrentBodies     = 64
	DefaultBodyWait                = 2 * time.Second
	DefaultReplayDedupWindow       = 24 * time.Hour
)

// Resolved returns the limits with defaults applied; in the result a count
// of 0 means no limit.
func (l HTTPLimits) Resolved() HTTPLimits {
	count := func(v *int, def int) {
		switch {
		case *v == 0:
			*v = def
		case *v < 0:
			*v = 0
		}
	}
	count(&l.MaxConnections, DefaultMaxConnections)
	count(&l.MaxConnectionsPerClient, DefaultMaxConnectionsPerClient)
	count(&l.MaxConcurrentBodies, DefaultMaxConcurrentBodies)
	setDefault(&l.BodyWait, DefaultBodyWait)
	setDefault(&l.ReplayDedupWindow, DefaultReplayDedupWindow)
	return l
}
