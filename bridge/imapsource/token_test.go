package imapsource

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rtbridge/rtbridge/bridge/config"
	"github.com/rtbridge/rtbridge/internal/oauth2test"
)

func refreshConfig(t *testing.T, e *oauth2test.Endpoint, rt string) config.OAuth2 {
	file := filepath.Join(t.TempDir(), "refresh.token")
	if err := os.WriteFile(file, []byte(rt+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return config.OAuth2{TokenURL: e.URL, ClientID: e.ClientID, ClientSecret: config.Secret(e.Secret),
		Grant: config.GrantRefreshToken, RefreshToken: config.Secret(rt), RefreshTokenFile: file, Scopes: []string{"imap"}}
}

func TestRotatedRefreshTokenSurvivesRestart(t *testing.T) {
	e := oauth2test.New(t, oauth2test.LocalSigner(t), "box@example.org")
	e.Configure(func(e *oauth2test.Endpoint) { e.Rotate = true })
	rt1 := e.NewRefreshToken()
	cfg := refreshConfig(t, e, rt1)
	st := openStore(t)
	var logs oauth2test.LogBuffer
	ctx := context.Background()

	if _, _, err := newTokens(cfg, "acct", st, logs.Logger()).Token(ctx, false); err != nil {
		t.Fatal(err)
	}
	infos, err := st.Infos(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var stored storedRefresh
	json.Unmarshal([]byte(infos["oauth2_refresh_token/acct"].Value), &stored)
	rt2 := stored.Token
	if rt2 == "" || rt2 == rt1 {
		t.Fatalf("rotated refresh token not stored")
	}
	if b, _ := os.ReadFile(cfg.RefreshTokenFile); strings.TrimSpace(string(b)) != rt1 {
		t.Fatalf("refresh_token_file was changed: %q", b)
	}

	// A restart: the config still has rt1, which the endpoint voided. The
	// file is rewritten with the same content (as systemd does with
	// credentials at every start): still the stored token counts.
	os.WriteFile(cfg.RefreshTokenFile, []byte(rt1+"\n"), 0o600)
	if _, _, err := newTokens(cfg, "acct", st, logs.Logger()).Token(ctx, false); err != nil {
		t.Fatalf("after restart: %v", err)
	}
	if p := e.Presented(); len(p) != 2 || p[0] != rt1 || p[1] != rt2 {
		t.Fatalf("refresh tokens presented: %q, want rt1 then the stored rt2", p)
	}

	// A file with another token (a new consent) wins over the stored one.
	rtNew := e.NewRefreshToken()
	if err := os.WriteFile(cfg.RefreshTokenFile, []byte(rtNew+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg.RefreshToken = config.Secret(rtNew)
	if _, _, err := newTokens(cfg, "acct", st, logs.Logger()).Token(ctx, false); err != nil {
		t.Fatalf("with a newer file: %v", err)
	}
	if p := e.Presented(); p[len(p)-1] != rtNew {
		t.Fatalf("presented %q last, want the file's new token", p[len(p)-1])
	}
	oauth2test.AssertNoSecrets(t, e.Secrets(), map[string]string{"log": logs.String()})
}

func TestTokenRefreshedBeforeExpiry(t *testing.T) {
	e := oauth2test.New(t, oauth2test.LocalSigner(t), "box@example.org")
	e.Configure(func(e *oauth2test.Endpoint) { e.Lifetime = 100 * time.Second })
	cfg := config.OAuth2{TokenURL: e.URL, ClientID: e.ClientID, ClientSecret: config.Secret(e.Secret), Grant: config.GrantClientCredentials}
	tk := newTokens(cfg, "acct", nil, nil)
	tk.log = testLogger(t)
	start := time.Now()
	tk.now = func() time.Time { return start }
	ctx := context.Background()
	a1, until, err := tk.Token(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	// A fifth of the lifetime before expiry the token is used up.
	if d := until.Sub(start); d < 75*time.Second || d > 85*time.Second {
		t.Fatalf("fresh for %s, want about 80s of 100s", d)
	}
	tk.now = func() time.Time { return start.Add(70 * time.Second) }
	if a, _, _ := tk.Token(ctx, false); a != a1 || e.Count() != 1 {
		t.Fatalf("token fetched again while fresh (%d requests)", e.Count())
	}
	tk.now = func() time.Time { return start.Add(81 * time.Second) }
	if a, _, _ := tk.Token(ctx, false); a == a1 || e.Count() != 2 {
		t.Fatalf("token not renewed near expiry (%d requests)", e.Count())
	}
	if _, _, _ = tk.Token(ctx, true); e.Count() != 3 {
		t.Fatalf("force did not fetch (%d requests)", e.Count())
	}
	if s := tk.Status(); !s.OK || s.Refreshes != 3 || s.LastError != "" {
		t.Fatalf("status %+v", s)
	}
}

func TestTokenErrorsAreClean(t *testing.T) {
	e := oauth2test.New(t, oauth2test.LocalSigner(t), "box@example.org")
	cfg := config.OAuth2{TokenURL: e.URL, ClientID: e.ClientID, ClientSecret: "wrong-secret-xyzzy", Grant: config.GrantClientCredentials}
	var logs oauth2test.LogBuffer
	tk := newTokens(cfg, "acct", nil, logs.Logger())
	_, _, err := tk.Token(context.Background(), false)
	var te *TokenError
	if !errors.Is(err, ErrToken) || !errors.As(err, &te) || te.Code != "invalid_client" || te.Status != 401 {
		t.Fatalf("err = %v, want an invalid_client TokenError", err)
	}
	if s := tk.Status(); s.OK || s.Failures != 1 || !strings.Contains(s.LastError, "invalid_client") {
		t.Fatalf("status %+v", s)
	}
	oauth2test.AssertNoSecrets(t, append(e.Secrets(), "wrong-secret-xyzzy"), map[string]string{"error": err.Error(), "log": logs.String(), "status": tk.Status().LastError})

	// Revoked refresh token.
	cfg = refreshConfig(t, e, "rt-never-issued-xyzzy")
	_, _, err = newTokens(cfg, "acct", nil, logs.Logger()).Token(context.Background(), false)
	if !errors.As(err, &te) || te.Code != "invalid_grant" || strings.Contains(err.Error(), "xyzzy") {
		t.Fatalf("err = %v, want invalid_grant without the token", err)
	}
	t.Logf("errors read: %v", err)
}
