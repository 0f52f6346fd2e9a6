// Package oauth2test gives integration tests an OAuth2 token endpoint on
// loopback that issues RS256 JWTs the test Dovecot (test/servers/imap-oauth2)
// validates locally, counts its requests and remembers every token it hands
// out, so tests can check that none leaks into logs, errors or status.
package oauth2test

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// Signer mints the RS256 JWTs the test Dovecot validates locally.
type Signer struct {
	key                     *rsa.PrivateKey
	kid, issuer, azp, claim string
	scope                   string
}

// NewSigner signs with the server's key (OAUTH_RS256_PRIVATE_KEY) and
// claims (OAUTH_ISSUER, OAUTH_KID, OAUTH_AZP, OAUTH_USERNAME_CLAIM,
// OAUTH_REQUIRED_SCOPE) from env.
func NewSigner(t testing.TB, env map[string]string) *Signer {
	t.Helper()
	b, err := os.ReadFile(env["OAUTH_RS256_PRIVATE_KEY"])
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		t.Fatalf("%s holds no PEM", env["OAUTH_RS256_PRIVATE_KEY"])
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return &Signer{key: k.(*rsa.PrivateKey), kid: env["OAUTH_KID"], issuer: env["OAUTH_ISSUER"],
		azp: env["OAUTH_AZP"], claim: env["OAUTH_USERNAME_CLAIM"], scope: env["OAUTH_REQUIRED_SCOPE"]}
}

// LocalSigner signs with a throwaway key, for tests of the token side
// alone (no IMAP server checks the tokens).
func LocalSigner(t testing.TB) *Signer {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return &Signer{key: k, kid: "k", issuer: "https://idp.example.test", azp: "a", claim: "email", scope: "imap"}
}

// Mint signs a token for user valid from now until exp. Claims stay flat
// (no arrays, no null): Dovecot 2.3's JWT parser can crash on them.
func (s *Signer) Mint(user string, exp time.Time) string {
	enc := func(v any) string { b, _ := json.Marshal(v); return base64.RawURLEncoding.EncodeToString(b) }
	now := time.Now()
	claims := map[string]any{"iss": s.issuer, "sub": "test-" + user, s.claim: user, "azp": s.azp,
		"scope": s.scope, "iat": now.Unix() - 1, "exp": exp.Unix(), "jti": randHex(8)}
	si := enc(map[string]string{"alg": "RS256", "typ": "JWT", "kid": s.kid}) + "." + enc(claims)
	h := sha256.Sum256([]byte(si))
	sig, err := rsa.SignPKCS1v15(nil, s.key, crypto.SHA256, h[:])
	if err != nil {
		panic(err)
	}
	return si + "." + base64.RawURLEncoding.EncodeToString(sig)
}

func randHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Endpoint is an OAuth2 token endpoint (RFC 6749) on loopback that
// issues JWTs for one user and counts its requests. It takes the client
// secret in the form body.
type Endpoint struct {
	*httptest.Server
	ClientID, Secret, user string
	signer                 *Signer

	mu sync.Mutex
	// Set these through Configure.
	Lifetime  time.Duration // of issued tokens (default 1h)
	Claimed   time.Duration // expires_in sent, when not the lifetime
	Rotate    bool          // issue a new refresh token on every refresh (and void the old one)
	refresh   map[string]bool
	issued    []string // every access and refresh token handed out
	presented []string // refresh tokens clients presented
	requests  int
	grants    map[string]int
}

// New starts an endpoint for user's tokens, closed when the test ends.
func New(t testing.TB, signer *Signer, user string) *Endpoint {
	e := &Endpoint{ClientID: "imap-poller-test", Secret: "cs-" + randHex(12), user: user, signer: signer,
		Lifetime: time.Hour, refresh: map[string]bool{}, grants: map[string]int{}}
	e.Server = httptest.NewServer(http.HandlerFunc(e.serve))
	t.Cleanup(e.Close)
	return e
}

// NewRefreshToken registers and returns a valid refresh token.
func (e *Endpoint) NewRefreshToken() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	rt := "rt-" + randHex(16)
	e.refresh[rt] = true
	e.issued = append(e.issued, rt)
	return rt
}

// RevokeAll voids every refresh token.
func (e *Endpoint) RevokeAll() {
	e.mu.Lock()
	defer e.mu.Unlock()
	clear(e.refresh)
}

// Configure changes the settings under the endpoint's lock.
func (e *Endpoint) Configure(f func(e *Endpoint)) {
	e.mu.Lock()
	defer e.mu.Unlock()
	f(e)
}

// Presented lists the refresh tokens clients presented, in order.
func (e *Endpoint) Presented() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.presented...)
}

// Count is the number of requests so far.
func (e *Endpoint) Count() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.requests
}

// Secrets lists everything that must never show in logs, errors or
// status: the client secret and every token handed out.
func (e *Endpoint) Secrets() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string{e.Secret}, e.issued...)
}

func (e *Endpoint) fail(w http.ResponseWriter, code int, errCode, desc string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]string{"error": errCode, "error_description": desc})
}

func (e *Endpoint) serve(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.requests++
	if r.Method != http.MethodPost || r.ParseForm() != nil {
		e.fail(w, 400, "invalid_request", "POST a form")
		return
	}
	f := r.PostForm
	if f.Get("client_id") != e.ClientID || f.Get("client_secret") != e.Secret {
		e.fail(w, 401, "invalid_client", "AADSTS7000215: Invalid client secret provided.")
		return
	}
	e.grants[f.Get("grant_type")]++
	resp := map[string]any{"token_type": "Bearer"}
	switch f.Get("grant_type") {
	case "client_credentials":
	case "refresh_token":
		rt := f.Get("refresh_token")
		e.presented = append(e.presented, rt)
		if !e.refresh[rt] {
			e.fail(w, 400, "invalid_grant", "Token has been expired or revoked.")
			return
		}
		if e.Rotate {
			delete(e.refresh, rt)
			nrt := "rt-" + randHex(16)
			e.refresh[nrt] = true
			e.issued = append(e.issued, nrt)
			resp["refresh_token"] = nrt
		}
	default:
		e.fail(w, 400, "unsupported_grant_type", "")
		return
	}
	at := e.signer.Mint(e.user, time.Now().Add(e.Lifetime))
	e.issued = append(e.issued, at)
	resp["access_token"] = at
	resp["expires_in"] = int(e.Lifetime.Seconds())
	if e.Claimed != 0 {
		resp["expires_in"] = int(e.Claimed.Seconds())
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(resp)
}

// LogBuffer captures slog output (debug and up) for leak checks.
type LogBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *LogBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *LogBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// Logger writes to the buffer.
func (l *LogBuffer) Logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// AssertNoSecrets fails when any secret shows in any of the texts.
func AssertNoSecrets(t testing.TB, secrets []string, texts map[string]string) {
	t.Helper()
	for name, text := range texts {
		for _, s := range secrets {
			if s == "" {
				continue
			}
			// A JWT's signature part alone would be a leak too.
			probe := s
			if i := strings.LastIndexByte(s, '.'); i > 0 {
				probe = s[i+1:]
			}
			if strings.Contains(text, probe) {
				t.Errorf("a secret (%s…) shows in %s", s[:min(6, len(s))], name)
			}
		}
	}
}

func (e *Endpoint) String() string { return fmt.Sprintf("token endpoint %s", e.URL) }
