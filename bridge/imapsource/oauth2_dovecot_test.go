package imapsource

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/rtbridge/rtbridge/bridge/config"
	"github.com/rtbridge/rtbridge/bridge/source"
	"github.com/rtbridge/rtbridge/internal/oauth2test"
	"github.com/rtbridge/rtbridge/internal/testenv"
)

// oauthServer is the test Dovecot that takes OAuth2 bearer tokens
// (test/servers/imap-oauth2), a folder of one test on it, and a token
// endpoint issuing JWTs it accepts.
type oauthServer struct {
	*dovecot
	endpoint *oauth2test.Endpoint
	logs     oauth2test.LogBuffer
}

func newOAuthServer(t *testing.T) *oauthServer {
	t.Helper()
	env := testenv.Require(t, "OAUTH_IMAP_HOST", "OAUTH_IMAP_PORT", "OAUTH_IMAPS_PORT", "OAUTH_IMAP_USER",
		"OAUTH_IMAP_PASSWORD", "OAUTH_IMAP_CA_CERT", "OAUTH_RS256_PRIVATE_KEY", "OAUTH_ISSUER", "OAUTH_KID",
		"OAUTH_AZP", "OAUTH_USERNAME_CLAIM")
	env["OAUTH_REQUIRED_SCOPE"], _ = testenv.Lookup("OAUTH_REQUIRED_SCOPE")
	// The helpers of dovecot_test.go speak IMAP_*; the admin connection
	// logs in with the password to append mail.
	for _, k := range []string{"HOST", "PORT", "USER", "PASSWORD", "CA_CERT"} {
		env["IMAP_"+k] = env["OAUTH_IMAP_"+k]
	}
	env["IMAPS_PORT"] = env["OAUTH_IMAPS_PORT"]
	d := &dovecot{t: t, env: env, folder: fmt.Sprintf("t-%s-%d", strings.ReplaceAll(t.Name(), "/", "-"), time.Now().UnixNano())}
	d.connectAdmin()
	if err := d.admin.Create(d.folder, nil).Wait(); err != nil {
		t.Fatalf("create folder: %v", err)
	}
	t.Cleanup(func() {
		d.connectAdmin()
		d.admin.Delete(d.folder).Wait()
		d.admin.Close()
	})
	o := &oauthServer{dovecot: d}
	o.endpoint = oauth2test.New(t, oauth2test.NewSigner(t, env), env["OAUTH_IMAP_USER"])
	return o
}

// account is an oauth2 IMAP account on the server (STARTTLS, so the
// token is never sent in clear) with the client-credentials grant.
func (o *oauthServer) account(mech string) config.IMAP {
	c := o.config("starttls")
	c.Name, c.Password, c.Auth = "oauth", "", config.AuthOAuth2
	c.OAuth2 = &config.OAuth2{TokenURL: o.endpoint.URL, ClientID: o.endpoint.ClientID,
		ClientSecret: config.Secret(o.endpoint.Secret), Grant: config.GrantClientCredentials,
		Scopes: []string{"imap"}, Mechanism: mech}
	return c
}

func (o *oauthServer) source(t *testing.T, cfg config.IMAP, st *recorder) *Source {
	t.Helper()
	src, err := New(cfg, o.folder, st, o.logs.Logger())
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// checkNoLeak looks for every token and secret the endpoint knows in the
// log, the source's status (as JSON) and its error.
func (o *oauthServer) checkNoLeak(t *testing.T, src *Source) {
	t.Helper()
	js, _ := json.Marshal(src.Status())
	herr := ""
	if err := src.Health(); err != nil {
		herr = err.Error()
	}
	oauth2test.AssertNoSecrets(t, o.endpoint.Secrets(), map[string]string{"log": o.logs.String(), "status": string(js), "health": herr})
}

func waitHealth(t *testing.T, src *Source, within time.Duration) error {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if err := src.Health(); err != nil {
			return err
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("source stayed healthy for %s; status %+v", within, src.Status())
	return nil
}

func TestOAuth2ClientCredentialsBothMechanisms(t *testing.T) {
	for _, tc := range []struct{ mech, want, tls string }{
		{config.MechOAUTHBEARER, "OAUTHBEARER", "starttls"},
		{config.MechXOAUTH2, "XOAUTH2", "implicit"},
		{config.MechAuto, "OAUTHBEARER", "starttls"},
	} {
		t.Run(tc.mech, func(t *testing.T) {
			o := newOAuthServer(t)
			cfg := o.account(tc.mech)
			if tc.tls == "implicit" {
				cfg.TLS, cfg.Address = "implicit", net.JoinHostPort(o.env["IMAP_HOST"], o.env["IMAPS_PORT"])
			}
			st := openStore(t)
			src := o.source(t, cfg, st)
			msg := mail("oauth2 "+tc.mech, fmt.Sprintf("oauth2-%s-%d@example.org", tc.mech, time.Now().UnixNano()))
			o.append(o.folder, msg)
			run(t, src, st)
			got := st.waitFor(t, 1, 10*time.Second)
			if raw := rawOf(t, st, got[0].ID); string(raw) != string(msg) {
				t.Fatalf("stored raw differs")
			}
			s := src.Status()
			if err := src.Health(); err != nil || s.Mechanism != tc.want || s.Auth != "oauth2" || s.OAuth2 == nil || !s.OAuth2.OK {
				t.Fatalf("health %v, status %+v", err, s)
			}
			if n := o.endpoint.Count(); n != 1 {
				t.Errorf("token endpoint asked %d times, want 1", n)
			}
			o.checkNoLeak(t, src)
		})
	}
}

func TestOAuth2RefreshTokenGrantRotatesAcrossRestart(t *testing.T) {
	o := newOAuthServer(t)
	o.endpoint.Configure(func(e *oauth2test.Endpoint) { e.Rotate = true })
	rt1 := o.endpoint.NewRefreshToken()
	cfg := o.account(config.MechXOAUTH2)
	cfg.OAuth2.Grant = config.GrantRefreshToken
	cfg.OAuth2.RefreshToken = config.Secret(rt1)
	cfg.OAuth2.RefreshTokenFile = refreshConfig(t, o.endpoint, rt1).RefreshTokenFile
	st := openStore(t)

	first := o.source(t, cfg, st)
	o.append(o.folder, mail("before restart", fmt.Sprintf("rt-1-%d@example.org", time.Now().UnixNano())))
	stop := runStoppable(first, st)
	st.waitFor(t, 1, 10*time.Second)
	stop()
	o.checkNoLeak(t, first)

	// The restarted source still has rt1 from the file, which the
	// endpoint voided when it rotated it: only the stored token works.
	second := o.source(t, cfg, st)
	o.append(o.folder, mail("after restart", fmt.Sprintf("rt-2-%d@example.org", time.Now().UnixNano())))
	run(t, second, st)
	got := st.waitFor(t, 2, 10*time.Second)
	if len(got) != 2 || got[0].Duplicate || got[1].Duplicate {
		t.Fatalf("accepted %+v", got)
	}
	if err := second.Health(); err != nil {
		t.Fatalf("after restart: %v", err)
	}
	if p := o.endpoint.Presented(); len(p) != 2 || p[0] != rt1 || p[1] == rt1 {
		t.Fatalf("presented %d refresh tokens (first is rt1: %v), want rt1 then the rotated one", len(p), len(p) > 0 && p[0] == rt1)
	}
	o.checkNoLeak(t, second)
}

// runStoppable runs src until the returned stop is called.
func runStoppable(src *Source, sink source.Sink) (stop func()) {
	done := make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	go func() { src.Run(ctx, sink); close(done) }()
	return func() { cancel(); <-done }
}

func TestOAuth2TokenExpiresMidSession(t *testing.T) {
	for _, idle := range []bool{true, false} {
		t.Run(fmt.Sprintf("idle=%v", idle), func(t *testing.T) {
			o := newOAuthServer(t)
			// 5 s tokens: used up a fifth before expiry, so a session
			// lasts about 4 s before it logs in again.
			o.endpoint.Configure(func(e *oauth2test.Endpoint) { e.Lifetime = 5 * time.Second })
			cfg := o.account(config.MechAuto)
			cfg.Idle = &idle
			st := openStore(t)
			src := o.source(t, cfg, st)
			ids := map[string]bool{}
			add := func(tag string, n int) {
				for i := range n {
					id := fmt.Sprintf("exp-%s-%d-%d@example.org", tag, i, time.Now().UnixNano())
					ids["msgid:"+id] = true
					o.append(o.folder, mail(tag, id))
				}
			}
			add("before", 3)
			run(t, src, st)
			st.waitFor(t, 3, 10*time.Second)
			waitLogins(t, src, 2, 10*time.Second) // a new token, a new session
			add("between", 3)
			st.waitFor(t, 6, 10*time.Second)
			waitLogins(t, src, 3, 10*time.Second)
			add("after", 2)
			got := st.waitFor(t, 8, 10*time.Second)
			time.Sleep(1500 * time.Millisecond) // time for a wrong second acceptance
			got = st.accepted()
			if len(got) != 8 {
				t.Fatalf("accepted %d events, want 8", len(got))
			}
			seen := map[string]bool{}
			for _, a := range got {
				ev, err := st.Event(t.Context(), a.ID)
				if err != nil {
					t.Fatal(err)
				}
				if a.Duplicate || seen[ev.DedupKey] || !ids[ev.DedupKey] {
					t.Fatalf("event %s (%s) duplicate=%v, seen before=%v", a.ID, ev.DedupKey, a.Duplicate, seen[ev.DedupKey])
				}
				seen[ev.DedupKey] = true
			}
			s := src.Status()
			if s.LastError != "" || s.Reconnects != 0 || o.endpoint.Count() < 3 {
				t.Fatalf("status %+v, %d token requests", s, o.endpoint.Count())
			}
			o.checkNoLeak(t, src)
		})
	}
}

func waitLogins(t *testing.T, src *Source, n int64, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for src.Status().Logins < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d logins after %s, want %d", src.Status().Logins, within, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A token the server refuses (here: expired although the endpoint said it
// lasts an hour) is replaced once, and the login goes through.
func TestOAuth2RefusedTokenFetchedOnceMore(t *testing.T) {
	o := newOAuthServer(t)
	o.endpoint.Configure(func(e *oauth2test.Endpoint) { e.Lifetime, e.Claimed = -time.Minute, time.Hour })
	st := openStore(t)
	src := o.source(t, o.account(config.MechOAUTHBEARER), st)
	run(t, src, st)
	err := waitHealth(t, src, 10*time.Second)
	if !errors.Is(err, ErrAuth) || !strings.Contains(err.Error(), "fetched just now") || o.endpoint.Count() != 2 {
		t.Fatalf("err %v after %d token requests; want a rejected login after exactly 2", err, o.endpoint.Count())
	}
	// Now the endpoint issues good tokens: the next attempt logs in.
	o.endpoint.Configure(func(e *oauth2test.Endpoint) { e.Lifetime, e.Claimed = time.Hour, 0 })
	o.append(o.folder, mail("after refusal", fmt.Sprintf("refused-%d@example.org", time.Now().UnixNano())))
	st.waitFor(t, 1, 15*time.Second)
	t.Logf("refused login read: %v", err)
	o.checkNoLeak(t, src)
}

func TestOAuth2RevokedRefreshTokenDownOthersUnaffected(t *testing.T) {
	o := newOAuthServer(t)
	rt := o.endpoint.NewRefreshToken()
	cfg := o.account(config.MechAuto)
	cfg.OAuth2.Grant, cfg.OAuth2.RefreshToken = config.GrantRefreshToken, config.Secret(rt)
	cfg.OAuth2.RefreshTokenFile = refreshConfig(t, o.endpoint, rt).RefreshTokenFile
	o.endpoint.RevokeAll()
	st := openStore(t)
	bad := o.source(t, cfg, st)

	// Another account on the same server, with the client-credentials
	// grant, keeps working.
	other := o.createFolder("other")
	ocfg := o.account(config.MechXOAUTH2)
	ocfg.Name = "other"
	good, err := New(ocfg, other, st, o.logs.Logger())
	if err != nil {
		t.Fatal(err)
	}
	run(t, bad, st)
	run(t, good, st)
	o.append(other, mail("other source", fmt.Sprintf("other-%d@example.org", time.Now().UnixNano())))
	o.append(o.folder, mail("stuck", fmt.Sprintf("stuck-%d@example.org", time.Now().UnixNano())))

	herr := waitHealth(t, bad, 10*time.Second)
	var te *TokenError
	if !errors.Is(herr, ErrToken) || !errors.As(herr, &te) || te.Code != "invalid_grant" {
		t.Fatalf("health %v, want invalid_grant", herr)
	}
	got := st.waitFor(t, 1, 10*time.Second)
	ev, _ := st.Event(t.Context(), got[0].ID)
	if ev.Source != good.Name() || good.Health() != nil {
		t.Fatalf("accepted from %s; other source health %v", ev.Source, good.Health())
	}
	s := bad.Status()
	if s.Connected || s.OAuth2 == nil || s.OAuth2.OK || !strings.Contains(s.OAuth2.LastError, "invalid_grant") ||
		!strings.Contains(s.LastError, "invalid_grant") {
		t.Fatalf("status of the revoked source: %+v", s)
	}
	if len(st.accepted()) != 1 {
		t.Fatalf("accepted %d, want only the other source's mail", len(st.accepted()))
	}
	t.Logf("revoked reads: %v", herr)
	o.checkNoLeak(t, bad)
}

func TestOAuth2WrongClientSecret(t *testing.T) {
	o := newOAuthServer(t)
	cfg := o.account(config.MechAuto)
	cfg.OAuth2.ClientSecret = "not-the-secret-xyzzy"
	st := openStore(t)
	src := o.source(t, cfg, st)
	run(t, src, st)
	herr := waitHealth(t, src, 10*time.Second)
	var te *TokenError
	if !errors.As(herr, &te) || te.Code != "invalid_client" || te.Status != 401 {
		t.Fatalf("health %v, want invalid_client", herr)
	}
	if strings.Contains(herr.Error(), "xyzzy") || strings.Contains(o.logs.String(), "xyzzy") {
		t.Fatalf("the wrong secret shows in the error or log: %v", herr)
	}
	t.Logf("wrong secret reads: %v", herr)
	o.checkNoLeak(t, src)
}
