package webhook

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/rtbridge/rtbridge/bridge/config"
)

// ErrUnauthorized is matched (errors.Is) by every authentication failure;
// the handler answers 401. Messages never contain the secret.
var ErrUnauthorized = errors.New("unauthorized")

// Verifier authenticates a request from its headers and exact body bytes.
// *alerts.HMACVerifier implements it.
type Verifier interface {
	Verify(h http.Header, body []byte) error
}

// replayKeyer is implemented by verifiers of signed bodies: the key names
// the signed bytes (the same for a replay, which cannot change them), and
// horizon is how long they keep passing Verify (0: for ever).
type replayKeyer interface {
	ReplayKey(h http.Header, body []byte) (key string, horizon time.Duration)
}

// headerOnly marks verifiers that do not need the body, so they run before
// it is read and an unauthenticated sender cannot make us read 1 MiB.
type headerOnly interface{ headerOnly() }

type noAuth struct{}

func (noAuth) Verify(http.Header, []byte) error { return nil }
func (noAuth) headerOnly()                      {}

// bearerAuth compares SHA-256 digests in constant time, so neither the
// token's content nor its length leaks through timing.
type bearerAuth struct{ want [32]byte }

func (b bearerAuth) headerOnly() {}

func (b bearerAuth) Verify(h http.Header, _ []byte) error {
	scheme, tok, ok := strings.Cut(h.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return fmt.Errorf("%w: bearer token missing", ErrUnauthorized)
	}
	got := sha256.Sum256([]byte(strings.TrimSpace(tok)))
	if subtle.ConstantTimeCompare(got[:], b.want[:]) != 1 {
		return fmt.Errorf("%w: wrong bearer token", ErrUnauthorized)
	}
	return nil
}

type basicAuth struct{ user, pass [32]byte }

func (b basicAuth) headerOnly() {}

func (b basicAuth) Verify(h http.Header, _ []byte) error {
	r := http.Request{Header: h}
	u, p, ok := r.BasicAuth()
	if !ok {
		return fmt.Errorf("%w: basic credentials missing", ErrUnauthorized)
	}
	gu, gp := sha256.Sum256([]byte(u)), sha256.Sum256([]byte(p))
	// Both compared always, so timing does not say which one was wrong.
	okU := subtle.ConstantTimeCompare(gu[:], b.user[:])
	okP := subtle.ConstantTimeCompare(gp[:], b.pass[:])
	if okU&okP != 1 {
		return fmt.Errorf("%w: wrong username or password", ErrUnauthorized)
	}
	return nil
}

// verifierFor builds the verifier an endpoint's config asks for.
func verifierFor(a config.Auth, hmac func(config.HMACAuth) (Verifier, error)) (Verifier, error) {
	switch {
	case a.None:
		return noAuth{}, nil
	case a.Bearer != nil:
		return bearerAuth{want: sha256.Sum256([]byte(a.Bearer.Token))}, nil
	case a.Basic != nil:
		return basicAuth{user: sha256.Sum256([]byte(a.Basic.Username)), pass: sha256.Sum256([]byte(a.Basic.Password))}, nil
	case a.HMAC != nil:
		if hmac == nil {
			return nil, errors.New("hmac authentication is not available in this build")
		}
		return hmac(*a.HMAC)
	}
	return nil, errors.New(`no authentication configured (write "auth: none" to accept unauthenticated requests)`)
}

// challenge is the WWW-Authenticate header of a 401.
func challenge(a config.Auth) string {
	switch {
	case a.Bearer != nil:
		return `Bearer realm="rtbridge"`
	case a.Basic != nil:
		return `Basic realm="rtbridge", charset="UTF-8"`
	}
	return ""
}

// HeaderAuth builds the verifier of a bearer or basic config and the
// WWW-Authenticate challenge its 401 carries; the daemon's admin
// endpoints use it, so they check credentials as the webhooks do.
func HeaderAuth(a config.Auth) (Verifier, string, error) {
	if a.Bearer == nil && a.Basic == nil {
		return nil, "", errors.New("needs bearer or basic")
	}
	v, err := verifierFor(a, nil)
	return v, challenge(a), err
}
