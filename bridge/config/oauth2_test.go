package config

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// loadOAuth2 loads one oauth2 account with secret files beside the config.
func loadOAuth2(t *testing.T, block string) ([]IMAP, error) {
	t.Helper()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "client.secret"), []byte("s3cret-from-file\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "refresh.token"), []byte("1//refresh-from-file\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "empty"), nil, 0o600)
	path := filepath.Join(dir, "c.yaml")
	body := "rt:\n  url: http://127.0.0.1:18080/\n  auth: token\n  token: t\nimap:\n" +
		"  - address: imap.example.org:993\n    username: box@example.org\n    auth: oauth2\n" + block
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	// The one loader decodes and checks imap: with the rest of the file.
	c, err := load(path, testEnv, false)
	if err != nil {
		return nil, err
	}
	return c.IMAP, nil
}

func TestOAuth2Microsoft365Preset(t *testing.T) {
	list, err := loadOAuth2(t, `    oauth2:
      provider: microsoft365
      tenant: example.onmicrosoft.com
      client_id: app-id
      client_secret_file: client.secret
`)
	if err != nil {
		t.Fatal(err)
	}
	o := list[0].OAuth2
	if o.TokenURL != "https://login.microsoftonline.com/example.onmicrosoft.com/oauth2/v2.0/token" ||
		o.Grant != GrantClientCredentials || strings.Join(o.Scopes, " ") != "https://outlook.office365.com/.default" ||
		string(o.ClientSecret) != "s3cret-from-file" || o.Mechanism != MechAuto || list[0].Auth != AuthOAuth2 {
		t.Errorf("preset: %+v", o)
	}
}

func TestOAuth2GooglePreset(t *testing.T) {
	list, err := loadOAuth2(t, `    oauth2:
      provider: google
      client_id: x.apps.googleusercontent.com
      client_secret: inline-secret
      refresh_token_file: refresh.token
      mechanism: xoauth2
`)
	if err != nil {
		t.Fatal(err)
	}
	o := list[0].OAuth2
	if o.TokenURL != "https://oauth2.googleapis.com/token" || o.Grant != GrantRefreshToken ||
		strings.Join(o.Scopes, " ") != "https://mail.google.com/" || string(o.RefreshToken) != "1//refresh-from-file" ||
		!filepath.IsAbs(o.RefreshTokenFile) || o.Mechanism != MechXOAUTH2 {
		t.Errorf("preset: %+v", o)
	}
}

func TestOAuth2ExplicitOverridesPreset(t *testing.T) {
	list, err := loadOAuth2(t, `    oauth2:
      provider: microsoft365
      tenant: t
      grant: refresh_token
      refresh_token_file: refresh.token
      client_id: app
      scopes: [custom]
`)
	if err != nil {
		t.Fatal(err)
	}
	if o := list[0].OAuth2; strings.Join(o.Scopes, " ") != "custom" || o.ClientSecret != "" {
		t.Errorf("%+v", o)
	}
}

func TestOAuth2Errors(t *testing.T) {
	pos := regexp.MustCompile(`c\.yaml:\d+:\d+: `)
	for _, tc := range []struct{ name, block, want string }{
		{"no block", "", "needs an oauth2: block"},
		{"no token url", "    oauth2:\n      client_id: a\n      grant: client_credentials\n      client_secret: s\n", "token_url: required"},
		{"http token url", "    oauth2:\n      token_url: http://idp.example.org/token\n      client_id: a\n      grant: client_credentials\n      client_secret: s\n", "must be https://"},
		{"no client id", "    oauth2:\n      provider: google\n      refresh_token_file: refresh.token\n", "client_id: required"},
		{"bad provider", "    oauth2:\n      provider: yahoo\n      client_id: a\n", `must be microsoft365 or google; got "yahoo"`},
		{"no tenant", "    oauth2:\n      provider: microsoft365\n      client_id: a\n      client_secret: s\n", "tenant: required"},
		{"no secret", "    oauth2:\n      provider: microsoft365\n      tenant: t\n      client_id: a\n", "client_credentials needs client_secret"},
		{"both secrets", "    oauth2:\n      provider: microsoft365\n      tenant: t\n      client_id: a\n      client_secret: s\n      client_secret_file: client.secret\n", "mutually exclusive"},
		{"missing secret file", "    oauth2:\n      provider: microsoft365\n      tenant: t\n      client_id: a\n      client_secret_file: nope\n", "no such file"},
		{"no refresh file", "    oauth2:\n      provider: google\n      client_id: a\n", "refresh_token needs refresh_token_file"},
		{"empty refresh file", "    oauth2:\n      provider: google\n      client_id: a\n      refresh_token_file: empty\n", "is empty"},
		{"google app-only", "    oauth2:\n      provider: google\n      grant: client_credentials\n      client_id: a\n      client_secret: s\n", "does not give IMAP access"},
		{"bad grant", "    oauth2:\n      token_url: https://idp/t\n      client_id: a\n      grant: password\n", "must be client_credentials or refresh_token"},
		{"bad mechanism", "    oauth2:\n      provider: google\n      client_id: a\n      refresh_token_file: refresh.token\n      mechanism: plain\n", "must be auto, xoauth2 or oauthbearer"},
		{"unknown key", "    oauth2:\n      provider: google\n      client_id: a\n      refresh_token: inline\n", `unknown key "refresh_token"`},
		{"password too", "    password: p\n    oauth2:\n      provider: google\n      client_id: a\n      refresh_token_file: refresh.token\n", "not used with auth: oauth2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := loadOAuth2(t, tc.block)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			if !pos.MatchString(err.Error()) {
				t.Errorf("no FILE:LINE:COL in %v", err)
			}
			if strings.Contains(err.Error(), "s3cret-from-file") || strings.Contains(err.Error(), "refresh-from-file") {
				t.Errorf("secret in error: %v", err)
			}
		})
	}
}

func TestOAuth2BlockNeedsAuthOAuth2(t *testing.T) {
	_, err := loadIMAP(t, "  - address: imap.example.org:993\n    username: u\n    password: p\n    oauth2:\n      client_id: a\n")
	if err == nil || !strings.Contains(err.Error(), "only used with auth: oauth2") {
		t.Fatalf("err = %v", err)
	}
	_, err = loadIMAP(t, "  - address: imap.example.org:993\n    username: u\n    auth: kerberos\n")
	if err == nil || !strings.Contains(err.Error(), "must be password or oauth2") {
		t.Fatalf("err = %v", err)
	}
}
