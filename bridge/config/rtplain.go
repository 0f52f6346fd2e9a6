package config

import (
	"net"
	"net/url"
	"strings"
)

// checkPlaintext refuses an http:// RT URL to another machine when the
// bridge would send a reusable secret over it (a password, a token, or
// the session cookie they buy), unless rt.allow_plaintext says the path
// is protected otherwise (a tunnel, a private link). Loopback is fine: a
// TLS proxy on the same host, or RT itself. Kerberos sends no reusable
// secret, but its session cookie is one too; it is refused likewise.
func (d *decoder) checkPlaintext(r RT) {
	u, err := url.Parse(r.URL)
	if err != nil || !strings.EqualFold(u.Scheme, "http") || r.AllowPlaintext || IsLoopbackHost(u.Hostname()) {
		return
	}
	d.errorf(d.at("rt.url"), "rt.url", "http:// to %s would send RT's %s in clear text; use https://, or set rt.allow_plaintext: true if the network path is protected otherwise", u.Hostname(), plaintextWhat(r.Auth))
}

// plaintextWhat names what goes in clear text with an auth scheme.
func plaintextWhat(auth string) string {
	switch auth {
	case "token":
		return "token"
	case "kerberos":
		return "session cookie"
	default:
		return "password"
	}
}

// IsLoopbackHost reports whether host (a name or an IP, without port)
// is this machine: localhost or a loopback address.
func IsLoopbackHost(host string) bool {
	h := strings.TrimSuffix(strings.ToLower(host), ".")
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// Warnings are the RT settings that weaken the connection on purpose, for
// the daemon to log at start.
func (r RT) Warnings() []string {
	var out []string
	if r.InsecureSkipVerify {
		out = append(out, "rt.insecure_skip_verify is true: RT's TLS certificate is not checked, so anyone on the network path can read and change what the bridge sends to RT, its credentials included")
	}
	if u, err := url.Parse(r.URL); err == nil && r.AllowPlaintext && strings.EqualFold(u.Scheme, "http") && !IsLoopbackHost(u.Hostname()) {
		out = append(out, "rt.allow_plaintext is true: RT's credentials and every ticket go unencrypted to "+u.Hostname())
	}
	return out
}
