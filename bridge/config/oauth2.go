package config

import (
	"net"
	"net/url"
	"strings"
)

// OAuth2 is how an IMAP account with auth: oauth2 gets its access tokens.
//
//	imap:
//	  - name: support
//	    address: outlook.office365.com:993
//	    username: support@example.com     # the mailbox
//	    auth: oauth2
//	    oauth2:
//	      provider: microsoft365          # or google; fills token_url and scopes
//	      tenant: example.onmicrosoft.com
//	      client_id: 00000000-0000-0000-0000-000000000000
//	      client_secret_file: /etc/rtbridge/imap-client-secret
type OAuth2 struct {
	// Provider fills token_url and scopes: microsoft365 (needs tenant) or
	// google. Empty: give token_url (and scopes) yourself.
	Provider string `yaml:"provider"`
	Tenant   string `yaml:"tenant"` // Microsoft Entra tenant: id or domain
	TokenURL string `yaml:"token_url"`
	ClientID string `yaml:"client_id"`
	// ClientSecret or ClientSecretFile; a public client (refresh_token
	// grant) may have none.
	ClientSecret     Secret   `yaml:"client_secret"`
	ClientSecretFile string   `yaml:"client_secret_file"`
	Scopes           []string `yaml:"scopes"`
	// Grant: client_credentials (app-only, Microsoft 365) or refresh_token
	// (delegated, Gmail). Default: the provider's usual one.
	Grant string `yaml:"grant"`
	// RefreshTokenFile holds the refresh token for grant refresh_token. A
	// token the provider rotates is kept in the state store, never written
	// here; once the file holds another token (a new consent), it wins.
	RefreshTokenFile string `yaml:"refresh_token_file"`
	RefreshToken     Secret `yaml:"-"` // read from RefreshTokenFile
	// Mechanism: auto (default: OAUTHBEARER when the server offers it,
	// else XOAUTH2), xoauth2 or oauthbearer.
	Mechanism string `yaml:"mechanism"`
}

// Auth values of an IMAP account.
const (
	AuthPassword = "password"
	AuthOAuth2   = "oauth2"
)

// OAuth2 grants.
const (
	GrantClientCredentials = "client_credentials"
	GrantRefreshToken      = "refresh_token"
)

// SASL mechanism choices (oauth2.mechanism).
const (
	MechAuto        = "auto"
	MechXOAUTH2     = "xoauth2"
	MechOAUTHBEARER = "oauthbearer"
)

type oauth2Preset struct {
	grant    string
	tokenURL func(tenant string) string
	scopes   map[string][]string // by grant
}

// Microsoft documents IMAP.AccessAsApp through the .default scope of
// Exchange Online for app-only tokens, and the delegated IMAP scope plus
// offline_access (for a refresh token) for user tokens. Google has one
// scope for full IMAP access.
var oauth2Presets = map[string]oauth2Preset{
	"microsoft365": {
		grant: GrantClientCredentials,
		tokenURL: func(tenant string) string {
			return "https://login.microsoftonline.com/" + url.PathEscape(tenant) + "/oauth2/v2.0/token"
		},
		scopes: map[string][]string{
			GrantClientCredentials: {"https://outlook.office365.com/.default"},
			GrantRefreshToken:      {"https://outlook.office.com/IMAP.AccessAsUser.All", "offline_access"},
		},
	},
	"google": {
		grant:    GrantRefreshToken,
		tokenURL: func(string) string { return "https://oauth2.googleapis.com/token" },
		scopes:   map[string][]string{GrantRefreshToken: {"https://mail.google.com/"}},
	},
}

// applyAuthDefaults sets auth (password) and, for oauth2, what the
// provider preset fills in: grant, token_url, scopes.
func (m *IMAP) applyAuthDefaults() {
	setDefault(&m.Auth, AuthPassword)
	o := m.OAuth2
	if m.Auth != AuthOAuth2 || o == nil {
		return
	}
	setDefault(&o.Mechanism, MechAuto)
	preset, ok := oauth2Presets[o.Provider]
	if !ok {
		return
	}
	setDefault(&o.Grant, preset.grant)
	if o.TokenURL == "" && (o.Tenant != "" || o.Provider == "google") {
		o.TokenURL = preset.tokenURL(o.Tenant)
	}
	if len(o.Scopes) == 0 {
		o.Scopes = preset.scopes[o.Grant]
	}
}

// resolveAuth reads the oauth2 block's secret files.
func (d *decoder) resolveAuth(c *Config, m *IMAP, p string) {
	o := m.OAuth2
	if m.Auth != AuthOAuth2 || o == nil {
		return
	}
	p += ".oauth2"
	d.secret(c, &o.ClientSecret, &o.ClientSecretFile, p, "client_secret")
	if o.Grant == GrantRefreshToken {
		d.secret(c, &o.RefreshToken, &o.RefreshTokenFile, p, "refresh_token")
	}
}

// checkAuth checks the account's credentials for its auth.
func (d *decoder) checkAuth(m *IMAP, p string) {
	switch m.Auth {
	case AuthPassword:
		if m.OAuth2 != nil {
			d.errorf(d.at(p+".oauth2"), p+".oauth2", "only used with auth: oauth2")
		}
		if m.Username == "" || (m.Password == "" && !d.skipSecrets) {
			d.errorf(d.at(p), p, "needs username and password (or password_file)")
		}
		return
	case AuthOAuth2:
	default:
		d.errorf(d.at(p+".auth"), p+".auth", "must be password or oauth2; got %q", m.Auth)
		return
	}
	if m.Username == "" {
		d.errorf(d.at(p), p, "needs username (the mailbox address the token is for)")
	}
	if m.Password != "" || m.PasswordFile != "" {
		d.errorf(d.at(p+".password"), p+".password", "not used with auth: oauth2; remove it")
	}
	if m.OAuth2 == nil {
		d.errorf(d.at(p+".auth"), p+".auth", "oauth2 needs an oauth2: block (token_url or provider, client_id, …)")
		return
	}
	d.checkOAuth2(m.OAuth2, p+".oauth2")
}

func (d *decoder) checkOAuth2(o *OAuth2, p string) {
	if _, known := oauth2Presets[o.Provider]; o.Provider != "" && !known {
		d.errorf(d.at(p+".provider"), p+".provider", "must be microsoft365 or google; got %q", o.Provider)
	}
	if o.Provider == "microsoft365" && o.Tenant == "" {
		d.errorf(d.at(p+".tenant"), p+".tenant", "required with provider microsoft365 (the tenant id or domain, e.g. example.onmicrosoft.com)")
	}
	if o.Tenant != "" && o.Provider != "microsoft365" {
		d.errorf(d.at(p+".tenant"), p+".tenant", "only used with provider microsoft365")
	}
	switch o.Grant {
	case GrantClientCredentials, GrantRefreshToken:
	case "":
		d.errorf(d.at(p+".grant"), p+".grant", "required: client_credentials or refresh_token")
	default:
		d.errorf(d.at(p+".grant"), p+".grant", "must be client_credentials or refresh_token; got %q", o.Grant)
	}
	if o.Provider == "google" && o.Grant == GrantClientCredentials {
		d.errorf(d.at(p+".grant"), p+".grant", "Google does not give IMAP access for client_credentials; use refresh_token")
	}
	switch {
	case o.TokenURL == "" && o.Provider == "":
		d.errorf(d.at(p+".token_url"), p+".token_url", "required (or provider: microsoft365 / google)")
	case o.TokenURL != "":
		if msg := checkTokenURL(o.TokenURL); msg != "" {
			d.errorf(d.at(p+".token_url"), p+".token_url", "%s; got %q", msg, o.TokenURL)
		}
	}
	if o.ClientID == "" {
		d.errorf(d.at(p+".client_id"), p+".client_id", "required")
	}
	if o.Grant == GrantClientCredentials && o.ClientSecret == "" && o.ClientSecretFile == "" {
		d.errorf(d.at(p), p, "client_credentials needs client_secret or client_secret_file")
	}
	switch {
	case o.Grant == GrantRefreshToken && o.RefreshTokenFile == "":
		d.errorf(d.at(p), p, "refresh_token needs refresh_token_file")
	case o.Grant != GrantRefreshToken && o.RefreshTokenFile != "":
		d.errorf(d.at(p+".refresh_token_file"), p+".refresh_token_file", "only used with grant: refresh_token")
	}
	for j, s := range o.Scopes {
		if strings.TrimSpace(s) == "" || strings.ContainsAny(s, " \t") {
			d.errorf(d.at(p+".scopes"), p+".scopes", "scope %d: one scope per list item, no spaces; got %q", j, s)
		}
	}
	d.oneOf(p+".mechanism", o.Mechanism, MechAuto, MechXOAUTH2, MechOAUTHBEARER)
}

// checkTokenURL wants https, except to a loopback host (a local token
// helper or a test); the client secret must not cross a network in clear.
func checkTokenURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return "must be an https:// URL"
	}
	if u.User != nil {
		return "must not contain credentials (use client_id and client_secret)"
	}
	switch u.Scheme {
	case "https":
		return ""
	case "http":
		h := u.Hostname()
		if ip := net.ParseIP(h); h == "localhost" || ip != nil && ip.IsLoopback() {
			return ""
		}
		return "must be https:// (http only to a loopback address)"
	}
	return "must be an https:// URL"
}
