package rest2_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rtbridge/rtbridge/internal/testenv"
	"github.com/rtbridge/rtbridge/rtapi"
	"github.com/rtbridge/rtbridge/rtapi/rest2"
)

// originRecorder remembers the Origin and Referer of the last request that
// carried RT's session cookie.
type originRecorder struct {
	next http.RoundTripper

	mu              sync.Mutex
	origin, referer string
	cookieRequests  int
}

func (o *originRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	if strings.Contains(req.Header.Get("Cookie"), "RT_SID_") {
		o.mu.Lock()
		o.origin, o.referer = req.Header.Get("Origin"), req.Header.Get("Referer")
		o.cookieRequests++
		o.mu.Unlock()
	}
	return o.next.RoundTrip(req)
}

// aliasTransport reaches the test RT under a host name RT does not know
// (rt-alias.invalid), as a bridge behind a proxy or an internal DNS name would.
func aliasTransport(t *testing.T, rtURL string) (aliasURL string, rt http.RoundTripper) {
	t.Helper()
	u, err := url.Parse(rtURL)
	if err != nil {
		t.Fatal(err)
	}
	real := u.Host
	u.Host = "rt-alias.invalid:" + u.Port()
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, real)
	}
	return u.String(), tr
}

// A REST2 write authenticated only by RT's session cookie (the Kerberos
// path's situation) succeeds against an RT that applies its referrer check
// to REST2: the client names RT's own URL as Origin.
func TestREST2WriteOnSessionCookie(t *testing.T) {
	rt := testenv.RequireRT(t)
	c := ctx(t)
	rec := &originRecorder{next: http.DefaultTransport}
	cl, err := rest2.New(rest2.Config{URL: rt.URL, Auth: rtapi.NewCookieAuth(rt.User, rt.Password), HTTPClient: &http.Client{Transport: rec}})
	if err != nil {
		t.Fatal(err)
	}
	subject := fmt.Sprintf("rest2 cookie write %d", time.Now().UnixNano())
	id, err := cl.CreateTicket(c, rtapi.TicketCreate{Queue: "General", Subject: subject, Text: "on the session cookie"})
	if err != nil {
		t.Fatalf("REST2 create on a session cookie: %v", err)
	}
	if err := cl.EditTicket(c, id, rtapi.TicketEdit{Fields: map[string]string{"Subject": subject + " edited"}}); err != nil {
		t.Fatalf("REST2 edit on a session cookie: %v", err)
	}
	tk, err := cl.Ticket(c, id)
	if err != nil {
		t.Fatal(err)
	}
	if tk.Subject != subject+" edited" {
		t.Errorf("subject %q after the edit", tk.Subject)
	}
	root, _ := rtapi.WebRoot(rt.URL)
	wantOrigin := root.Scheme + "://" + root.Host
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if rec.cookieRequests == 0 {
		t.Fatal("no request carried RT's session cookie: the test did not exercise the cookie path")
	}
	if rec.origin != wantOrigin || rec.referer != root.String() {
		t.Errorf("Origin %q Referer %q, want %q and %q", rec.origin, rec.referer, wantOrigin, root.String())
	}
}

// Under a host name RT does not know, RT refuses the REST2 write on the
// cookie; the client says why (the RT setting and the origin it sent), RT
// created nothing, and REST 1.0 writes on the same kind of session are not
// subject to the check.
func TestREST2RefusedOriginIsTypedError(t *testing.T) {
	rt := testenv.RequireRT(t)
	c := ctx(t)
	alias, tr := aliasTransport(t, rt.URL)
	cl, err := rest2.New(rest2.Config{URL: alias, Auth: rtapi.NewCookieAuth(rt.User, rt.Password), HTTPClient: &http.Client{Transport: tr}})
	if err != nil {
		t.Fatal(err)
	}
	subject := fmt.Sprintf("rest2 refused origin %d", time.Now().UnixNano())
	_, err = cl.CreateTicket(c, rtapi.TicketCreate{Queue: "General", Subject: subject})
	if !errors.Is(err, rtapi.ErrRefererRefused) {
		t.Fatalf("create under %s: %v, want ErrRefererRefused", alias, err)
	}
	var ce *rtapi.CSRFError
	if !errors.As(err, &ce) || ce.Origin != strings.TrimSuffix(alias, "/") {
		t.Fatalf("CSRFError %+v, want Origin %s", ce, strings.TrimSuffix(alias, "/"))
	}
	for _, want := range []string{"$RestrictReferrer", "$ReferrerWhitelist", ce.Origin, "Set(@ReferrerWhitelist, qw(rt-alias.invalid:"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
	if rtapi.KindOf(err) != rtapi.Auth {
		t.Errorf("kind %v, want auth (an RT setting to fix, not a bad event)", rtapi.KindOf(err))
	}

	admin, err := rest2.New(rest2.Config{URL: rt.URL, Auth: rtapi.NewTokenAuth(rt.Token)})
	if err != nil {
		t.Fatal(err)
	}
	found, err := admin.SearchTickets(c, fmt.Sprintf("Subject = '%s'", subject), "", "")
	if err != nil {
		t.Fatal(err)
	}
	if len(found) != 0 {
		t.Errorf("RT created %v although it refused the request", found)
	}

	// REST 1.0 on a cookie session under the same unknown host name writes.
	c1, err := rtapi.New(rtapi.Config{URL: alias, Auth: rtapi.NewCookieAuth(rt.User, rt.Password), HTTPClient: &http.Client{Transport: tr}})
	if err != nil {
		t.Fatal(err)
	}
	id, err := c1.CreateTicket(c, rtapi.TicketCreate{Queue: "General", Subject: subject + " rest1"})
	if err != nil {
		t.Fatalf("REST 1.0 create on a cookie under %s: %v", alias, err)
	}
	if err := c1.Comment(c, id, rtapi.Message{Text: "a second write on the same session"}); err != nil {
		t.Fatalf("REST 1.0 comment on a cookie: %v", err)
	}
	tk, err := admin.Ticket(c, id)
	if err != nil {
		t.Fatal(err)
	}
	if tk.Subject != subject+" rest1" {
		t.Errorf("REST 1.0 ticket %d has subject %q", id, tk.Subject)
	}
}
