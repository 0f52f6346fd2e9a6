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
	client   *http.Client

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

	c.err = do(ctx, s.client)

	s.mu.Lock()
	s.flight = nil
	s.mu.Unlock()
	close(c.done)
	return c.err
}

// cookie returns the header value to send, or "".
func (s *session) cookie() (name, value string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.name, s.value
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

// remember keeps an RT_SID_* cookie from a response.
func (s *session) remember(resp *http.Response) {
	for _, ck := range resp.Cookies() {
		if !strings.HasPrefix(ck.Name, "RT_SID_") {
			continue
		}
		s.mu.Lock()
		if ck.MaxAge < 0 || ck.Value == "" {
			if ck.Name == s.name {
				s.value = ""
			}
		} else {
			s.name, s.value = ck.Name, ck.Value
		}
		s.mu.Unlock()
	}
}

// cookieCatcher keeps RT's session cookie from every response, including
// those of an Authenticator's own login requests.
type cookieCatcher struct {
	next http.RoundTripper
	sess *session
}

func (t *cookieCatcher) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if err == nil && sameOrigin(req.URL, t.sess.endpoint) {
		t.sess.remember(resp)
	}
	return resp, err
}

func sameOrigin(a, b *url.URL) bool {
	return strings.EqualFold(a.Scheme, b.Scheme) && strings.EqualFold(a.Host, b.Host)
}
