// Package kerberos is an rtapi.Authenticator for RT sites behind a web server
// that does Kerberos single sign-on (SPNEGO, "Authorization: Negotiate"),
// such as Apache mod_auth_gssapi with RT's $WebRemoteUserAuth.
//
// It logs in to the KDC with a keytab, a password (the caller reads it) or an
// existing credential cache, then logs in to RT once through the front: an
// unauthenticated GET to see the Negotiate challenge, the same GET with a
// token, keeping RT's RT_SID_* session cookie (REST2 ignores REMOTE_USER, so
// the cookie is what authenticates it there). Later requests carry the cookie
// and, since most fronts authenticate every request, a pre-emptive Negotiate
// token built from the cached service ticket: no 401 round trip, no KDC
// traffic. Password and keytab logins renew the TGT in the background
// (gokrb5) and log in again when renewal is no longer possible; a credential
// cache is re-read when its tickets are refused, so an external kinit/k5start
// keeps a long-running daemon going.
package kerberos

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"sync"

	"github.com/jcmturner/gokrb5/v8/client"
	"github.com/jcmturner/gokrb5/v8/config"
	"github.com/jcmturner/gokrb5/v8/credentials"
	"github.com/jcmturner/gokrb5/v8/keytab"
)

// Config says how to obtain Kerberos credentials. Exactly one of KeytabFile,
// Password or a credential cache is used, in that order; with neither keytab
// nor password, CCache (or $KRB5CCNAME) is read.
type Config struct {
	// Krb5Conf is the krb5.conf path; "" means $KRB5_CONFIG, then /etc/krb5.conf.
	// (gokrb5 does not read the environment itself.)
	Krb5Conf string
	// Principal is the client: "user" or "user@REALM".
	Principal string
	// Realm applies when Principal has none; default: libdefaults default_realm.
	Realm      string
	KeytabFile string
	// Password is the principal's password itself; the caller reads it
	// (bridge/config reads rt.kerberos.password_file).
	Password string
	// CCache is a credential cache path ("FILE:" prefix allowed); "" means
	// $KRB5CCNAME, then /tmp/krb5cc_<uid>.
	CCache string
	// SPN is the service principal, e.g. "HTTP/rt.example.org"; "" derives
	// HTTP/<host of the RT URL> (no DNS canonicalisation).
	SPN string
	// DisablePAFXFAST is needed against Active Directory; harmless with MIT.
	DisablePAFXFAST bool
	// Logger gets login and renewal events at debug/info level; nil discards.
	Logger *slog.Logger
}

// Authenticator implements rtapi.Authenticator with SPNEGO. Safe for
// concurrent use. Close stops the TGT renewal goroutine.
type Authenticator struct {
	cfg       Config
	krb       *config.Config
	spn       string
	principal string // user@REALM, for errors and logs
	log       *slog.Logger

	mu    sync.Mutex
	cl    *client.Client
	stale bool // a token was refused: rebuild the client before the next one
}

// New checks cfg, reads krb5.conf and the credentials, and returns an
// authenticator for the RT at rtURL. It does not contact the KDC; call Login
// to fail fast at start-up.
func New(cfg Config, rtURL string) (*Authenticator, error) {
	a := &Authenticator{cfg: cfg, log: cfg.Logger}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	path := cmp.Or(cfg.Krb5Conf, os.Getenv("KRB5_CONFIG"), "/etc/krb5.conf")
	krb, err := config.Load(path)
	if err != nil {
		var unsupported config.UnsupportedDirective
		if krb == nil || !errors.As(err, &unsupported) {
			return nil, &Error{Op: "read krb5.conf", Kind: ErrConfig, Detail: fmt.Sprintf("%s: %v", path, err)}
		}
		a.log.Warn("krb5.conf has directives gokrb5 ignores", "path", path, "detail", err.Error())
	}
	a.krb = krb
	if a.spn, err = spnFor(cfg.SPN, rtURL); err != nil {
		return nil, err
	}
	if cfg.KeytabFile != "" || cfg.Password != "" {
		user, realm := splitPrincipal(cfg.Principal, cfg.Realm, krb.LibDefaults.DefaultRealm)
		if user == "" || realm == "" {
			return nil, &Error{Op: "configure", Kind: ErrConfig, Detail: "principal (user[@REALM]) and a realm (or default_realm in krb5.conf) are required with a keytab or password"}
		}
		a.principal = user + "@" + realm
	}
	cl, err := a.newClient()
	if err != nil {
		return nil, err
	}
	a.cl = cl
	return a, nil
}

// spnFor returns the explicit SPN or HTTP/<host> of the RT URL.
func spnFor(spn, rtURL string) (string, error) {
	if spn != "" {
		return spn, nil
	}
	u, err := url.Parse(rtURL)
	if err != nil || u.Hostname() == "" {
		return "", &Error{Op: "configure", Kind: ErrConfig, Detail: "cannot derive the service principal: RT URL has no host; set spn"}
	}
	return "HTTP/" + strings.ToLower(strings.TrimSuffix(u.Hostname(), ".")), nil
}

// splitPrincipal returns user and realm of "user@REALM" or "user".
func splitPrincipal(p, realm, defRealm string) (string, string) {
	if i := strings.LastIndex(p, "@"); i >= 0 {
		return p[:i], p[i+1:]
	}
	return p, cmp.Or(realm, defRealm)
}

// newClient builds a gokrb5 client from the configured credential source.
func (a *Authenticator) newClient() (*client.Client, error) {
	opts := []func(*client.Settings){client.DisablePAFXFAST(a.cfg.DisablePAFXFAST)}
	user, realm, _ := strings.Cut(a.principal, "@")
	switch {
	case a.cfg.KeytabFile != "":
		kt, err := keytab.Load(a.cfg.KeytabFile)
		if err != nil {
			return nil, &Error{Op: "read keytab", Principal: a.principal, Kind: ErrConfig, Detail: fmt.Sprintf("%s: %v", a.cfg.KeytabFile, err)}
		}
		return client.NewWithKeytab(user, realm, kt, a.krb, opts...), nil
	case a.cfg.Password != "":
		return client.NewWithPassword(user, realm, a.cfg.Password, a.krb, opts...), nil
	}
	path := ccachePath(a.cfg.CCache)
	cc, err := credentials.LoadCCache(path)
	if err != nil {
		return nil, &Error{Op: "read credential cache", Kind: ErrConfig, Detail: fmt.Sprintf("%s: %v (run kinit, or configure a keytab or password file)", path, err)}
	}
	a.principal = cc.DefaultPrincipal.PrincipalName.PrincipalNameString() + "@" + cc.DefaultPrincipal.Realm
	cl, err := client.NewFromCCache(cc, a.krb, opts...)
	if err != nil {
		return nil, &Error{Op: "read credential cache", Principal: a.principal, Kind: ErrExpired, Detail: err.Error()}
	}
	return cl, nil
}

// ccachePath resolves the credential cache location like MIT's default.
func ccachePath(p string) string {
	p = cmp.Or(p, os.Getenv("KRB5CCNAME"))
	if p == "" {
		return fmt.Sprintf("/tmp/krb5cc_%d", os.Getuid())
	}
	return strings.TrimPrefix(p, "FILE:")
}

// Principal returns the client principal (user@REALM).
func (a *Authenticator) Principal() string { return a.principal }

// SPN returns the service principal tokens are made for.
func (a *Authenticator) SPN() string { return a.spn }

// Login obtains a TGT now (keytab/password) or checks the cached one, and a
// service ticket for the SPN, so configuration errors surface at start-up.
func (a *Authenticator) Login(ctx context.Context) error {
	cl, err := a.client()
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := cl.Login(); err != nil {
		return classify("login", a.principal, err)
	}
	if _, _, err := cl.GetServiceTicket(a.spn); err != nil {
		return classify("service ticket for "+a.spn, a.principal, err)
	}
	a.log.Debug("kerberos login", "principal", a.principal, "spn", a.spn)
	return nil
}

// client returns the current gokrb5 client, rebuilding it after a refusal:
// a fresh AS exchange (keytab/password) or a re-read credential cache.
func (a *Authenticator) client() (*client.Client, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.stale || a.cl == nil {
		cl, err := a.newClient()
		if err != nil {
			return nil, err
		}
		if a.cl != nil {
			a.cl.Destroy()
		}
		a.cl, a.stale = cl, false
		a.log.Info("kerberos credentials reloaded", "principal", a.principal)
	}
	return a.cl, nil
}

// Close stops the background TGT renewal and forgets the tickets.
func (a *Authenticator) Close() {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.cl != nil {
		a.cl.Destroy()
		a.cl = nil
	}
}
