package kerberos_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jcmturner/gokrb5/v8/keytab"

	"github.com/rtbridge/rtbridge/internal/testenv"
	"github.com/rtbridge/rtbridge/rtapi"
	"github.com/rtbridge/rtbridge/rtapi/kerberos"
	"github.com/rtbridge/rtbridge/rtapi/rest2"
)

// krb returns the KDC + SPNEGO front facts.
func krb(t *testing.T) map[string]string {
	return testenv.Require(t, "KRB5_CONFIG", "KRB_USER", "KRB_USER_PASSWORD", "KRB_USER_KEYTAB", "KRB_REALM", "RT_KRB_URL", "KDC_ADDR")
}

func writeFile(t *testing.T, name, content string) string {
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// createAs creates a ticket through the SPNEGO front with REST 1.0 and
// REST2, and checks with root's token on the main RT that RT recorded the
// Kerberos user as Creator.
func createAs(t *testing.T, a *kerberos.Authenticator, user string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	env := krb(t)
	rt := testenv.RequireRT(t)
	admin, err := rest2.New(rest2.Config{URL: rt.URL, Auth: rtapi.NewTokenAuth(rt.Token)})
	if err != nil {
		t.Fatal(err)
	}
	subject := fmt.Sprintf("kerberos %s %d", t.Name(), time.Now().UnixNano())

	c1, err := rtapi.New(rtapi.Config{URL: env["RT_KRB_URL"], Auth: a})
	if err != nil {
		t.Fatal(err)
	}
	id1, err := c1.CreateTicket(ctx, rtapi.TicketCreate{Queue: "General", Subject: subject + " rest1", Text: "line one\nline two"})
	if err != nil {
		t.Fatalf("REST 1.0 create through the front: %v", err)
	}
	// A second request reuses RT's session (no new login).
	if _, err := c1.Ticket(ctx, id1); err != nil {
		t.Fatalf("REST 1.0 read back: %v", err)
	}

	c2, err := rest2.New(rest2.Config{URL: env["RT_KRB_URL"], Auth: a})
	if err != nil {
		t.Fatal(err)
	}
	// POST with a body: the front needs Negotiate on it too.
	id2, err := c2.CreateTicket(ctx, rtapi.TicketCreate{Queue: "General", Subject: subject + " rest2", Text: "body"})
	if err != nil {
		t.Fatalf("REST2 create through the front: %v", err)
	}
	for _, id := range []int{id1, id2} {
		tk, err := admin.Ticket(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if tk.Creator != user || !strings.HasPrefix(tk.Subject, subject) {
			t.Errorf("ticket %d: Creator %q Subject %q, want Creator %q", id, tk.Creator, tk.Subject, user)
		}
	}
}

func TestKeytabLoginCreatesTicketAsKerberosUser(t *testing.T) {
	env := krb(t)
	a, err := kerberos.New(kerberos.Config{Krb5Conf: env["KRB5_CONFIG"], Principal: env["KRB_USER"], KeytabFile: env["KRB_USER_KEYTAB"]}, env["RT_KRB_URL"])
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if a.SPN() != "HTTP/localhost" {
		t.Errorf("SPN %q derived from %s, want HTTP/localhost", a.SPN(), env["RT_KRB_URL"])
	}
	if err := a.Login(context.Background()); err != nil {
		t.Fatal(err)
	}
	createAs(t, a, env["KRB_USER"])
}

func TestPasswordLoginCreatesTicketAsKerberosUser(t *testing.T) {
	env := krb(t)
	t.Setenv("KRB5_CONFIG", env["KRB5_CONFIG"]) // krb5.conf from the environment
	a, err := kerberos.New(kerberos.Config{Principal: env["KRB_USER"] + "@" + env["KRB_REALM"], Password: env["KRB_USER_PASSWORD"]}, env["RT_KRB_URL"])
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	createAs(t, a, env["KRB_USER"])
}

// loginErr logs in with cfg and returns the error.
func loginErr(t *testing.T, cfg kerberos.Config, url string) error {
	t.Helper()
	a, err := kerberos.New(cfg, url)
	if err != nil {
		return err
	}
	defer a.Close()
	return a.Login(context.Background())
}

func TestLoginErrors(t *testing.T) {
	env := krb(t)
	conf := env["KRB5_CONFIG"]
	secret := "not-the-password-" + fmt.Sprint(time.Now().UnixNano())

	// A krb5.conf whose KDC is a loopback port nobody listens on.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	orig, _ := os.ReadFile(conf)
	deadConf := writeFile(t, "krb5.conf", strings.ReplaceAll(string(orig), env["KDC_ADDR"], closed))

	// A keytab for the right principal with the wrong key.
	kt := keytab.New()
	if err := kt.AddEntry(env["KRB_USER"], env["KRB_REALM"], secret, time.Now(), 1, 18); err != nil {
		t.Fatal(err)
	}
	ktb, _ := kt.Marshal()
	badKeytab := writeFile(t, "bad.keytab", string(ktb))

	cases := []struct {
		name string
		cfg  kerberos.Config
		want error
	}{
		{"kdc unreachable", kerberos.Config{Krb5Conf: deadConf, Principal: env["KRB_USER"], Password: env["KRB_USER_PASSWORD"]}, kerberos.ErrKDCUnreachable},
		{"unknown principal", kerberos.Config{Krb5Conf: conf, Principal: "nosuchuser", Password: secret}, kerberos.ErrUnknownPrincipal},
		{"wrong password", kerberos.Config{Krb5Conf: conf, Principal: env["KRB_USER"], Password: secret}, kerberos.ErrBadCredentials},
		{"wrong keytab", kerberos.Config{Krb5Conf: conf, Principal: env["KRB_USER"], KeytabFile: badKeytab}, kerberos.ErrBadCredentials},
		{"unknown service", kerberos.Config{Krb5Conf: conf, Principal: env["KRB_USER"], KeytabFile: env["KRB_USER_KEYTAB"], SPN: "HTTP/nosuchhost"}, kerberos.ErrUnknownService},
		{"missing keytab file", kerberos.Config{Krb5Conf: conf, Principal: env["KRB_USER"], KeytabFile: "/nonexistent/x.keytab"}, kerberos.ErrConfig},
		{"missing ccache", kerberos.Config{Krb5Conf: conf, CCache: "FILE:/nonexistent/cc"}, kerberos.ErrConfig},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := loginErr(t, tc.cfg, env["RT_KRB_URL"])
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), env["KRB_USER_PASSWORD"]) {
				t.Fatalf("error leaks a password: %v", err)
			}
			t.Logf("%v", err)
		})
	}
}

// A server without Negotiate (the main RT, not behind the front): the
// first request fails with a typed error through the rtapi client.
func TestServerWithoutNegotiate(t *testing.T) {
	env := krb(t)
	rt := testenv.RequireRT(t)
	a, err := kerberos.New(kerberos.Config{Krb5Conf: env["KRB5_CONFIG"], Principal: env["KRB_USER"], KeytabFile: env["KRB_USER_KEYTAB"], SPN: "HTTP/localhost"}, rt.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	ctx := context.Background()
	c, err := rtapi.New(rtapi.Config{URL: rt.URL, Auth: a, Retry: rtapi.RetryPolicy{Attempts: 1}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Ticket(ctx, 1)
	if !errors.Is(err, kerberos.ErrNoNegotiate) || rtapi.KindOf(err) != rtapi.Auth {
		t.Fatalf("REST 1.0: err = %v (kind %v), want ErrNoNegotiate, Auth", err, rtapi.KindOf(err))
	}
	c2, _ := rest2.New(rest2.Config{URL: rt.URL, Auth: a, Attempts: 1})
	_, err = c2.Ticket(ctx, 1)
	if !errors.Is(err, kerberos.ErrNoNegotiate) {
		t.Fatalf("REST2: err = %v, want ErrNoNegotiate", err)
	}
}

// Through the front the KDC being down surfaces as a Transient rtapi error.
func TestUnreachableKDCIsTransient(t *testing.T) {
	env := krb(t)
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := ln.Addr().String()
	ln.Close()
	orig, _ := os.ReadFile(env["KRB5_CONFIG"])
	a, err := kerberos.New(kerberos.Config{Krb5Conf: writeFile(t, "krb5.conf", strings.ReplaceAll(string(orig), env["KDC_ADDR"], closed)),
		Principal: env["KRB_USER"], KeytabFile: env["KRB_USER_KEYTAB"]}, env["RT_KRB_URL"])
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	c, _ := rest2.New(rest2.Config{URL: env["RT_KRB_URL"], Auth: a, Attempts: 1})
	_, err = c.Ticket(context.Background(), 1)
	if !errors.Is(err, kerberos.ErrKDCUnreachable) || rtapi.KindOf(err) != rtapi.Transient {
		t.Fatalf("err = %v (kind %v), want ErrKDCUnreachable, Transient", err, rtapi.KindOf(err))
	}
}
