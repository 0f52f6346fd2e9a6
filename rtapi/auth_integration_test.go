package rtapi

import (
	"errors"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// countingTransport records what the client sends.
type countingTransport struct {
	logins, withAuthz, withCookie, withPass atomic.Int64
	total                                   atomic.Int64
}

func (ct *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ct.total.Add(1)
	if req.Method == http.MethodPost && strings.HasSuffix(req.URL.Path, "/REST/1.0/") {
		ct.logins.Add(1)
	}
	if req.Header.Get("Authorization") != "" {
		ct.withAuthz.Add(1)
	}
	if c, err := req.Cookie("x"); err == nil || c != nil || strings.Contains(req.Header.Get("Cookie"), "RT_SID_") {
		ct.withCookie.Add(1)
	}
	if req.URL.Query().Get("pass") != "" {
		ct.withPass.Add(1)
	}
	return http.DefaultTransport.RoundTrip(req)
}

func countedClient(t *testing.T, auth Authenticator) (*Client, *countingTransport, *syncBuffer) {
	t.Helper()
	c, logs, _ := rtClient(t, auth)
	ct := &countingTransport{}
	c2, err := New(Config{URL: c.BaseURL(), Auth: auth, HTTPClient: &http.Client{Transport: ct}, Logger: c.log})
	if err != nil {
		t.Fatal(err)
	}
	return c2, ct, logs
}

func TestRTCookieAuthLogsInOnceAndRelogsOnce(t *testing.T) {
	rt := rtClientEnv(t)
	c, ct, _ := countedClient(t, NewCookieAuth(rt.User, rt.Password))
	ctx := ctxT(t)
	var wg sync.WaitGroup
	errs := make(chan error, 12)
	for range 12 {
		wg.Go(func() {
			_, err := c.Queue(ctx, "General")
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := ct.logins.Load(); n != 1 {
		t.Errorf("12 concurrent requests made %d logins, want 1", n)
	}
	if ct.withPass.Load() != 0 {
		t.Error("a request carried pass in its URL")
	}
	// An expired session: RT answers 401, the client logs in once more.
	c.sess.mu.Lock()
	c.sess.value = "00000000000000000000000000000000"
	c.sess.mu.Unlock()
	if _, err := c.Queue(ctx, "General"); err != nil {
		t.Fatalf("after session loss: %v", err)
	}
	if n := ct.logins.Load(); n != 2 {
		t.Errorf("logins after session loss = %d, want 2", n)
	}

	// Wrong password: Auth error, no endless loop (one login, one re-login).
	bad, ct2, _ := countedClient(t, NewCookieAuth(rt.User, "wrong-"+rt.Password))
	_, err := bad.Queue(ctx, "General")
	if !errors.Is(err, ErrCredentials) || KindOf(err) != Auth {
		t.Errorf("wrong password: %v", err)
	}
	if n := ct2.logins.Load(); n != 2 || ct2.total.Load() != 2 {
		t.Errorf("wrong password: %d logins, %d requests; want 2, 2", n, ct2.total.Load())
	}
	if strings.Contains(err.Error(), rt.Password) {
		t.Error("error text contains the password")
	}
}

func TestRTQueryAuthEveryRequest(t *testing.T) {
	rt := rtClientEnv(t)
	c, ct, _ := countedClient(t, NewQueryAuth(rt.User, rt.Password))
	ctx := ctxT(t)
	for range 3 {
		if _, err := c.User(ctx, rt.User); err != nil {
			t.Fatal(err)
		}
	}
	if ct.withPass.Load() != 3 || ct.withCookie.Load() != 0 || ct.logins.Load() != 0 {
		t.Errorf("query auth: %d with pass, %d with cookie, %d logins", ct.withPass.Load(), ct.withCookie.Load(), ct.logins.Load())
	}
	bad, _, _ := countedClient(t, NewQueryAuth(rt.User, "nope"))
	if _, err := bad.User(ctx, rt.User); !errors.Is(err, ErrCredentials) {
		t.Errorf("bad query password: %v", err)
	}
}

func TestRTTokenAuthThenSession(t *testing.T) {
	rt := rtClientEnv(t)
	c, ct, _ := countedClient(t, NewTokenAuth(rt.Token))
	ctx := ctxT(t)
	for range 3 {
		if _, err := c.Queue(ctx, "General"); err != nil {
			t.Fatal(err)
		}
	}
	if ct.withAuthz.Load() != 1 || ct.withCookie.Load() != 2 {
		t.Errorf("token auth: %d requests with Authorization (want 1), %d with the cookie (want 2)", ct.withAuthz.Load(), ct.withCookie.Load())
	}
	bad, _, _ := countedClient(t, NewTokenAuth("1-14-00000000000000000000000000000000"))
	if _, err := bad.Queue(ctx, "General"); !errors.Is(err, ErrCredentials) {
		t.Errorf("bad token: %v", err)
	}
}

// RT's standalone server ignores Basic on REST 1.0 (it needs a web server
// that sets REMOTE_USER); the header itself is tested with httptest.
func TestRTBasicIgnoredByStandaloneRT(t *testing.T) {
	rt := rtClientEnv(t)
	c, ct, _ := countedClient(t, NewBasicAuth(rt.User, rt.Password))
	if _, err := c.Queue(ctxT(t), "General"); !errors.Is(err, ErrCredentials) {
		t.Errorf("Basic against standalone RT: %v", err)
	}
	if ct.withAuthz.Load() != 2 {
		t.Errorf("Basic header sent %d times, want 2 (attempt and one retry)", ct.withAuthz.Load())
	}
}

func TestRTDebugLogHasNoSecrets(t *testing.T) {
	rt := rtClientEnv(t)
	var logs []*syncBuffer
	var sids []string
	for _, auth := range []Authenticator{NewCookieAuth(rt.User, rt.Password), NewQueryAuth(rt.User, rt.Password), NewTokenAuth(rt.Token), NewCookieAuth(rt.User, "wrong-secret-pw")} {
		c, buf, _ := rtClient(t, auth)
		ctx := ctxT(t)
		id, _ := c.CreateTicket(ctx, TicketCreate{Queue: "General", Subject: unique("h2 log"), Text: "t",
			Attachments: []Attachment{bytesAttachment("a.txt", "text/plain", []byte("x"))}})
		if id > 0 {
			_ = c.Comment(ctx, id, Message{Text: "c"})
			_, _ = c.Ticket(ctx, id)
			_, _ = c.SearchTickets(ctx, "id = "+itoa(id), "+id", "s")
		}
		_, _, _ = c.Content(ctx, "ticket/1/attachments/1/content")
		logs = append(logs, buf)
		if _, v := c.sess.cookie(); v != "" {
			sids = append(sids, v)
		}
	}
	for _, buf := range logs {
		s := buf.String()
		if !strings.Contains(s, "rt request") {
			t.Fatalf("no debug lines logged: %q", s)
		}
		for _, secret := range append([]string{rt.Password, rt.Token, "wrong-secret-pw", "pass=", "Authorization", "RT_SID_"}, sids...) {
			if strings.Contains(s, secret) {
				t.Errorf("debug log contains %q:\n%s", secret, s)
			}
		}
	}
}
