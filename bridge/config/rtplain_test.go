package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// An http:// RT on another host with a password or token is refused, at
// the URL's position, unless rt.allow_plaintext is set; loopback and
// https are accepted.
func TestRTPlaintext(t *testing.T) {
	for _, c := range []struct {
		rt, err string
	}{
		{"url: 'http://rt.example.com/', auth: token, token: t", "c.yaml:1:12: rt.url: http:// to rt.example.com would send RT's token in clear text"},
		{"url: 'http://10.0.0.5:8080/rt/', user: u, password: p", "c.yaml:1:12: rt.url: http:// to 10.0.0.5 would send RT's password in clear text"},
		{"url: 'HTTP://rt.example.com/', auth: basic, user: u, password: p", "rt.url: http:// to rt.example.com"},
		{"url: 'http://rt.example.com/', auth: query, user: u, password: p", "rt.url: http:// to rt.example.com"},
		{"url: 'http://rt.example.com/', auth: token, token: t, allow_plaintext: true", ""},
		{"url: 'http://127.0.0.1:18080/', auth: token, token: t", ""},
		{"url: 'http://[::1]:18080/', auth: token, token: t", ""},
		{"url: 'http://localhost/', user: u, password: p", ""},
		{"url: 'https://rt.example.com/', auth: token, token: t", ""},
	} {
		path := filepath.Join(t.TempDir(), "c.yaml")
		os.WriteFile(path, []byte("rt: { "+c.rt+" }\n"), 0o600)
		_, err := load(path, testEnv, false)
		switch {
		case c.err == "" && err != nil:
			t.Errorf("%s: %v", c.rt, err)
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("%s: %v, want %q", c.rt, err, c.err)
		}
		if err != nil && strings.Contains(err.Error(), "p\"") {
			t.Errorf("the error quotes a secret: %v", err)
		}
	}
}

func TestRTWarnings(t *testing.T) {
	if w := (RT{URL: "https://rt.example.com/", InsecureSkipVerify: true}).Warnings(); len(w) != 1 || !strings.Contains(w[0], "insecure_skip_verify") {
		t.Errorf("insecure_skip_verify: %q", w)
	}
	if w := (RT{URL: "http://rt.example.com/", AllowPlaintext: true}).Warnings(); len(w) != 1 || !strings.Contains(w[0], "rt.example.com") {
		t.Errorf("allow_plaintext: %q", w)
	}
	if w := (RT{URL: "http://127.0.0.1/", AllowPlaintext: true}).Warnings(); len(w) != 0 {
		t.Errorf("loopback: %q", w)
	}
}
