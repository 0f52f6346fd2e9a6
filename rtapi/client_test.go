package rtapi

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
)

func TestBaseURLForms(t *testing.T) {
	for in, want := range map[string]string{
		"https://rt.example.com":               "https://rt.example.com/REST/1.0/",
		"https://rt.example.com/":              "https://rt.example.com/REST/1.0/",
		"https://rt.example.com/rt/":           "https://rt.example.com/rt/REST/1.0/",
		"https://rt.example.com/rt":            "https://rt.example.com/rt/REST/1.0/",
		"https://rt.example.com/REST/1.0/":     "https://rt.example.com/REST/1.0/",
		"https://rt.example.com/REST/1.0":      "https://rt.example.com/REST/1.0/",
		"http://h:8080/x/REST/1.0/":            "http://h:8080/x/REST/1.0/",
		"https://rt.example.com/REST/2.0/":     "https://rt.example.com/REST/1.0/",
		" https://rt.example.com/rt/rest/2.0 ": "https://rt.example.com/rt/REST/1.0/",
	} {
		c, err := New(Config{URL: in})
		if err != nil || c.BaseURL() != want {
			t.Errorf("New(%q) = %v, %v; want %q", in, c.BaseURL(), err, want)
		}
	}
	for _, bad := range []string{"", "rt.example.com", "ftp://h/", "https://root:hunter2@h/", "https://h/?user=a"} {
		_, err := New(Config{URL: bad})
		if err == nil || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("New(%q) = %v", bad, err)
		}
	}
	c, _ := New(Config{URL: "https://h/"})
	u, err := c.resolve("search/ticket", url.Values{"orderby": {"+id"}, "query": {"Subject = 'a b'"}})
	if err != nil || !strings.Contains(u.RawQuery, "orderby=%2Bid") {
		t.Errorf("resolve = %v %v", u, err)
	}
	if _, err := c.resolve("../../etc", nil); err == nil {
		t.Error("path with .. accepted")
	}
}

// RT ≥ 5.0.4 marks its cookie Secure; over http the client must still send
// it back, or every request would log in again.
func TestSecureCookieOverHTTPAndBasicHeader(t *testing.T) {
	var logins, withCookie, basic atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		if _, _, ok := r.BasicAuth(); ok {
			basic.Add(1)
		}
		if r.URL.Path == "/REST/1.0/" && r.PostForm.Get("pass") == "pw" {
			logins.Add(1)
			w.Header().Add("Set-Cookie", "RT_SID_example.com.443=abcdef0123; path=/; HttpOnly; Secure; SameSite=Lax")
			_, _ = io.WriteString(w, "RT/5.0.8 200 Ok\n\n# Invalid object specification: ''\n\nid: \n\n")
			return
		}
		if ck, err := r.Cookie("RT_SID_example.com.443"); err == nil && ck.Value == "abcdef0123" {
			withCookie.Add(1)
			_, _ = io.WriteString(w, "RT/5.0.8 200 Ok\n\nid: queue/1\nName: General\n\n")
			return
		}
		w.Header().Add("Set-Cookie", "RT_SID_example.com.443=anon999; path=/; HttpOnly; Secure")
		_, _ = io.WriteString(w, "RT/5.0.8 401 Credentials required\n")
	}))
	defer srv.Close()
	c, err := New(Config{URL: srv.URL, Auth: NewCookieAuth("u", "pw")})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := c.Queue(context.Background(), "General"); err != nil {
			t.Fatal(err)
		}
	}
	if logins.Load() != 1 || withCookie.Load() != 3 {
		t.Errorf("%d logins, %d requests with the Secure cookie; want 1, 3", logins.Load(), withCookie.Load())
	}
	// Basic is pre-emptive on every request (never waits for a challenge).
	b, _ := New(Config{URL: srv.URL, Auth: NewBasicAuth("u", "pw")})
	_, err = b.Queue(context.Background(), "General")
	if basic.Load() != 2 || !errors.Is(err, ErrCredentials) {
		t.Errorf("Basic: header on %d requests, err %v", basic.Load(), err)
	}
	if _, v := b.sess.cookie(); v == "anon999" {
		t.Error("kept the anonymous cookie of a 401 answer")
	}
}

func TestRedactURL(t *testing.T) {
	u, _ := url.Parse("https://bob:pw@h/REST/1.0/ticket/1?user=bob&pass=s3cret&format=l&token=tk")
	got := RedactURL(u)
	for _, s := range []string{"s3cret", "pw@", "=bob", "=tk"} {
		if strings.Contains(got, s) {
			t.Errorf("RedactURL = %q contains %q", got, s)
		}
	}
	if !strings.Contains(got, "format=l") {
		t.Errorf("RedactURL dropped harmless params: %q", got)
	}
	// Transport errors repeat the URL; QueryAuth puts the password there.
	c, _ := New(Config{URL: "http://127.0.0.1:1/", Auth: NewQueryAuth("bob", "s3cret"), Retry: RetryPolicy{Attempts: 1}})
	_, err := c.Get(context.Background(), "ticket/1", nil)
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("transport error = %v", err)
	}
}
