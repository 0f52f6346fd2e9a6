package rtapi

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
)

// session holds RT's RT_SID_<rtname>.<port> cookie.
//
// The client keeps this one cookie by hand instead of using a
// net/http/cookiejar: RT ≥ 5.0.4 marks it Secure, and a jar never returns a
// Secure cookie over plain http, so every request would log in again (and pay
// RT's password check). The cookie is only ever sent to the configured RT
// origin, over the same scheme the operator chose for the password itself.
type session struct {
	endpoint *url.URL
	rt       http.RoundTripper // the transport, for login clients

	mu     sync.Mutex
	name   string // e.g. RT_SID_example.com.443
	value  string
	flight *loginCall // in-flight login shared by concurrent callers
}

type loginCall struct {
	done chan struct{}
	err  error
}

func (s *session) HasSession() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.value != ""
}

func (s *session) Endpoint() *url.URL {
	u := *s.endpoint
	return &u
}

// Login runs do with a client that records the RT_SID_* cookie of its
// answers; when do succeeds that cookie becomes the session. RT also sets a
// (useless, anonymous) cookie on a refused login, so only do's verdict
// decides.
func (s *session) Login(ctx context.Context, do func(context.Context, *http.Client) error) error {
	s.mu.Lock()
	if s.value != "" {
		s.mu.Unlock()
		return nil
	}
	if c := s.flight; c != nil {
		s.mu.Unlock()
		select {
		case <-c.done:
			return c.err
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	c := &loginCall{done: make(chan struct{})}
	s.flight = c
	s.mu.Unlock()

	catcher := &cookieCatcher{next: s.rt, origin: s.endpoint}
	hc := &http.Client{Transport: catcher, CheckRedirect: noRedirect}
	c.err = do(ctx, hc)
	if c.err == nil {
		catcher.mu.Lock()
		name, value := catcher.name, catcher.value
		catcher.mu.Unlock()
		if value == "" {
			c.err = &Error{Op: "log in", Kind: Auth, Text: "RT accepted the login but set no RT_SID_* session cookie"}
		} else {
			s.set(name, value)
		}
	}

	s.mu.Lock()
	s.flight = nil
	s.mu.Unlock()
	close(c.done)
	return c.err
}

func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// cookie returns the cookie to send, or "".
func (s *session) cookie() (name, value string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.name, s.value
}

func (s *session) set(name, value string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.name, s.value = name, value
}

// invalidate drops the cookie after RT refused it, unless another request
// has already replaced it with a fresh one (compare and clear), so that
// concurrent 401s cause one new login, not one each.
func (s *session) invalidate(sent string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sent == "" || s.value == sent {
		s.value = ""
	}
}

// accept keeps the RT_SID_* cookie of an answer RT gave as an authenticated
// user (any RT status but 401): e.g. after a token or Kerberos request.
func (s *session) accept(resp *http.Response) {
	if name, value, ok := sidCookie(resp); ok {
		s.set(name, value)
	}
}

func sidCookie(resp *http.Response) (name, value string, ok bool) {
	for _, ck := range resp.Cookies() {
		if strings.HasPrefix(ck.Name, "RT_SID_") && ck.Value != "" && ck.MaxAge >= 0 {
			name, value, ok = ck.Name, ck.Value, true
		}
	}
	return name, value, ok
}

// cookieCatcher records the RT_SID_* cookie of a login's answers.
type cookieCatcher struct {
	next   http.RoundTripper
	origin *url.URL

	mu          sync.Mutex
	name, value string
}

func (t *cookieCatcher) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if err == nil && sameOrigin(req.URL, t.origin) {
		if name, value, ok := sidCookie(resp); ok {
			t.mu.Lock()
			t.name, t.value = name, value
			t.mu.Unlock()
		}
	}
	return resp, err
}

func sameOrigin(a, b *url.URL) bool {
	return strings.EqualFold(a.Scheme, b.Scheme) && strings.EqualFold(a.Host, b.Host)
}
