package config

import (
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
)

// ReservedPaths are served by the daemon itself; no webhook may take them.
var reservedPaths = []string{"/healthz", "/readyz", "/metrics", "/status"}

// resolve makes relative paths absolute (against the config's directory) and
// reads every *_file secret into its twin.
func (d *decoder) resolve(c *Config) {
	c.Abs(&c.State.Dir)
	c.Abs(&c.RT.CAFile)
	if c.HTTP.TLS != nil {
		c.Abs(&c.HTTP.TLS.CertFile)
		c.Abs(&c.HTTP.TLS.KeyFile)
	}
	if k := c.RT.Kerberos; k != nil {
		c.Abs(&k.Krb5Conf)
		c.Abs(&k.KeytabFile)
		d.secret(c, &k.Password, &k.PasswordFile, "rt.kerberos", "password")
	}
	for i := range c.IMAP {
		m := &c.IMAP[i]
		c.Abs(&m.CAFile)
		d.secret(c, &m.Password, &m.PasswordFile, fmt.Sprintf("imap[%d]", i), "password")
		d.resolveAuth(c, m, fmt.Sprintf("imap[%d]", i))
	}
	d.resolvePostgres(c)
	d.secret(c, &c.RT.Password, &c.RT.PasswordFile, "rt", "password")
	d.secret(c, &c.RT.Token, &c.RT.TokenFile, "rt", "token")
	d.authSecrets(c, &c.HTTP.AdminAuth, "http.admin_auth")
	for i := range c.Webhooks {
		a, p := &c.Webhooks[i].Auth, fmt.Sprintf("webhooks[%d].auth", i)
		d.authSecrets(c, a, p)
		if a.HMAC != nil {
			d.secret(c, &a.HMAC.Secret, &a.HMAC.SecretFile, p+".hmac", "secret")
		}
	}
}

// authSecrets reads the bearer token or basic password file of the auth at
// p (a webhook's, or the admin endpoints').
func (d *decoder) authSecrets(c *Config, a *Auth, p string) {
	if a.Bearer != nil {
		d.secret(c, &a.Bearer.Token, &a.Bearer.TokenFile, p+".bearer", "token")
	}
	if a.Basic != nil {
		d.secret(c, &a.Basic.Password, &a.Basic.PasswordFile, p+".basic", "password")
	}
}

// secret enforces that key and key_file are exclusive and loads key_file.
func (d *decoder) secret(c *Config, val *Secret, file *string, section, key string) {
	fileKey := join(section, key+"_file")
	if *file == "" || d.skipSecrets {
		return
	}
	if *val != "" {
		d.errorf(d.at(fileKey), fileKey, "%s and %s_file are mutually exclusive", key, key)
		return
	}
	c.Abs(file)
	s, err := ReadSecretFile(*file)
	if err != nil {
		d.errorf(d.at(fileKey), fileKey, "%v", err)
		return
	}
	*val = s
}

func (d *decoder) validate(c *Config) {
	d.validateRT(c)
	if !slices.Contains([]string{"debug", "info", "warn", "error"}, c.Log.Level) {
		d.errorf(d.at("log.level"), "log.level", "must be one of debug, info, warn, error; got %q", c.Log.Level)
	}
	d.oneOf("log.format", c.Log.Format, "text", "json")
	if _, _, err := net.SplitHostPort(c.HTTP.Listen); err != nil {
		d.errorf(d.at("http.listen"), "http.listen", "must be host:port (e.g. 127.0.0.1:8080): %v", err)
	}
	if t := c.HTTP.TLS; t != nil && (t.CertFile == "" || t.KeyFile == "") {
		d.errorf(d.at("http.tls"), "http.tls", "needs both cert_file and key_file")
	}
	if c.HTTP.MaxBodyBytes < 0 {
		d.errorf(d.at("http.max_body_bytes"), "http.max_body_bytes", "must be positive")
	}
	d.validateAdmin(c)
	d.validateWebhooks(c)
	d.validateIMAP(c)
	if c.MTA != nil {
		d.completeMTA(c, c.MTA)
	}
	d.validatePostgres(c)
	e := c.Executor
	for _, f := range []struct {
		key string
		n   int
	}{{"workers", e.Workers}, {"max_attempts", e.MaxAttempts}, {"breaker.failures", e.Breaker.Failures}} {
		if f.n < 1 {
			d.errorf(d.at("executor."+f.key), "executor."+f.key, "must be at least 1 (leave it out for the default)")
		}
	}
	if e.Backoff.Max < e.Backoff.Initial {
		d.errorf(d.at("executor.backoff.max"), "executor.backoff.max", "must not be below backoff.initial (%s)", e.Backoff.Initial)
	}
}

func (d *decoder) validateRT(c *Config) {
	r := c.RT
	if r.URL == "" {
		d.errorf(d.at("rt.url"), "rt.url", "required (e.g. https://rt.example.com/)")
	} else if u, err := url.Parse(r.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		d.errorf(d.at("rt.url"), "rt.url", "must be an http:// or https:// URL; got %q", r.URL)
	} else if u.User != nil {
		d.errorf(d.at("rt.url"), "rt.url", "must not contain credentials (use rt.user and rt.password_file)")
	}
	d.oneOf("rt.api", r.API, "rest1", "rest2")
	switch r.Auth {
	case "token":
		if r.Token == "" && !d.skipSecrets {
			d.errorf(d.at("rt.auth"), "rt.auth", "token needs rt.token or rt.token_file")
		}
	case "basic", "query", "cookie":
		if r.User == "" || (r.Password == "" && !d.skipSecrets) {
			d.errorf(d.at("rt.auth"), "rt.auth", "%s needs rt.user and rt.password (or rt.password_file)", r.Auth)
		}
	case "kerberos":
	default:
		d.errorf(d.at("rt.auth"), "rt.auth", "must be one of basic, query, cookie, token, kerberos; got %q", r.Auth)
	}
	if err := r.CheckAPIAuth(); err != nil && slices.Contains([]string{"query", "cookie"}, r.Auth) {
		d.errorf(d.at("rt.auth"), "rt.auth", "%v", err)
	}
	d.checkPlaintext(r)
	if r.MaxConcurrency < 1 {
		d.errorf(d.at("rt.max_concurrency"), "rt.max_concurrency", "must be at least 1")
	}
}

func (d *decoder) validateWebhooks(c *Config) {
	names, paths := map[string]bool{}, map[string]bool{}
	for i, w := range c.Webhooks {
		p := fmt.Sprintf("webhooks[%d]", i)
		switch {
		case w.Name == "":
			d.errorf(d.at(p+".name"), p+".name", "required")
		case names[w.Name]:
			d.errorf(d.at(p+".name"), p+".name", "%q is used by another webhook", w.Name)
		}
		names[w.Name] = true
		switch {
		case !strings.HasPrefix(w.Path, "/"):
			d.errorf(d.at(p+".path"), p+".path", "must start with / (e.g. /hooks/%s); got %q", w.Name, w.Path)
		case slices.Contains(reservedPaths, w.Path):
			d.errorf(d.at(p+".path"), p+".path", "%s is served by rtbridge itself", w.Path)
		case paths[w.Path]:
			d.errorf(d.at(p+".path"), p+".path", "%s is used by another webhook", w.Path)
		}
		paths[w.Path] = true
		d.oneOf(p+".kind", w.Kind, KindJSON, KindAlertmanager, KindGrafana)
		d.validateAuth(w.Auth, p+".auth")
		d.validateHMACReplay(w.Auth, p+".auth")
		if w.Auth.HMAC != nil {
			d.validateHMAC(*w.Auth.HMAC, p+".auth.hmac")
		}
	}
}

// validateHMAC checks the signing style and what it allows.
func (d *decoder) validateHMAC(h HMACAuth, p string) {
	d.oneOf(p+".style", h.Style, "github", "grafana")
	if h.Style == "github" && h.TimestampHeader != "" {
		d.errorf(d.at(p+".timestamp_header"), p+".timestamp_header", "the github style signs no timestamp; remove timestamp_header or use style: grafana")
	}
}

func (d *decoder) validateAuth(a Auth, p string) {
	n := 0
	for _, set := range []bool{a.None, a.Bearer != nil, a.Basic != nil, a.HMAC != nil} {
		if set {
			n++
		}
	}
	switch {
	case n == 0:
		d.errorf(d.at(p), p, `required: one of bearer, basic, hmac (write "auth: none" to accept unauthenticated requests)`)
	case n > 1:
		d.errorf(d.at(p), p, "give only one of bearer, basic, hmac")
	case d.skipSecrets:
	case a.Bearer != nil && a.Bearer.Token == "":
		d.errorf(d.at(p+".bearer"), p+".bearer", "needs token or token_file")
	case a.Basic != nil && (a.Basic.Username == "" || a.Basic.Password == ""):
		d.errorf(d.at(p+".basic"), p+".basic", "needs username and password (or password_file)")
	case a.HMAC != nil && (a.HMAC.Secret == "" || a.HMAC.Header == ""):
		d.errorf(d.at(p+".hmac"), p+".hmac", "needs header and secret (or secret_file)")
	}
}
