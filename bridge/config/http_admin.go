package config

import "net"

// The admin endpoints (/metrics, /status, /healthz, /readyz) are served on
// http.admin_listen when it is set, and then no longer on http.listen, so
// the webhook listener can face senders while the admin one stays on a
// private address. http.admin_auth (bearer or basic, from files) guards
// them wherever they are served, as Prometheus' web config guards its own.

// AdminGuarded reports whether the admin endpoints require credentials.
func (h HTTP) AdminGuarded() bool {
	return h.AdminAuth.Bearer != nil || h.AdminAuth.Basic != nil
}

func (d *decoder) validateAdmin(c *Config) {
	h := c.HTTP
	if h.AdminListen != "" {
		if _, port, err := net.SplitHostPort(h.AdminListen); err != nil {
			d.errorf(d.at("http.admin_listen"), "http.admin_listen", "must be host:port (e.g. 127.0.0.1:9180): %v", err)
		} else if h.AdminListen == h.Listen && port != "0" {
			d.errorf(d.at("http.admin_listen"), "http.admin_listen", "must differ from http.listen (leave it out to serve both on one listener)")
		}
	}
	a := h.AdminAuth
	switch {
	case a.HMAC != nil:
		d.errorf(d.at("http.admin_auth.hmac"), "http.admin_auth.hmac", "signs request bodies; the admin endpoints take bearer or basic")
	case a.None && a.Bearer == nil && a.Basic == nil:
		// Written out: no credentials, as when admin_auth is absent.
	case a.Method() != "":
		d.validateAuth(a, "http.admin_auth")
	}
}
