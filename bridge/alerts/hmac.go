package alerts

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Signature errors. All match ErrUnauthenticated, which the webhook answers
// with 401; none of their messages contains the secret or the received
// signature.
var (
	ErrUnauthenticated  = errors.New("request not authenticated")
	ErrSignatureMissing = errors.New("signature header missing")
	ErrSignatureInvalid = errors.New("signature does not match the body")
	ErrTimestamp        = errors.New("signature timestamp missing, malformed or outside the replay window")
)

type authError struct {
	err    error
	detail string
}

func (e *authError) Error() string {
	if e.detail == "" {
		return e.err.Error()
	}
	return e.err.Error() + ": " + e.detail
}

func (e *authError) Unwrap() []error { return []error{ErrUnauthenticated, e.err} }

// Style is the signing convention of an HMACVerifier.
type Style string

// Signing conventions.
const (
	// StyleGitHub: header "X-Hub-Signature-256: sha256=<hex HMAC-SHA256(secret, body)>".
	StyleGitHub Style = "github"
	// StyleGrafana: header "X-Grafana-Alerting-Signature: <hex HMAC-SHA256(secret, body)>",
	// or of "<timestamp>:<body>" when a timestamp header is configured.
	StyleGrafana Style = "grafana"
)

// Default header names.
const (
	GitHubSignatureHeader  = "X-Hub-Signature-256"
	GrafanaSignatureHeader = "X-Grafana-Alerting-Signature"
	DefaultReplayWindow    = 5 * time.Minute
)

// HMACVerifier checks a body signature over the exact bytes received.
type HMACVerifier struct {
	Style  Style
	Secret []byte
	// Header overrides the signature header name (Grafana lets users choose it).
	Header string
	// TimestampHeader (Grafana only) names the header carrying the Unix time
	// in seconds that Grafana prepends to the signed string; "" means the
	// body alone is signed and there is no replay window.
	TimestampHeader string
	// ReplayWindow is how far the timestamp may be from now, either way;
	// zero means DefaultReplayWindow.
	ReplayWindow time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// NewHMACVerifier checks the configuration and returns a verifier.
func NewHMACVerifier(style Style, secret []byte, header, timestampHeader string, window time.Duration) (*HMACVerifier, error) {
	switch style {
	case StyleGitHub:
		if timestampHeader != "" {
			return nil, fmt.Errorf("hmac: the github style signs no timestamp; remove the timestamp header")
		}
	case StyleGrafana:
	default:
		return nil, fmt.Errorf("hmac: unknown style %q (want github or grafana)", style)
	}
	if len(secret) == 0 {
		return nil, fmt.Errorf("hmac: empty secret")
	}
	if window < 0 {
		return nil, fmt.Errorf("hmac: negative replay window")
	}
	return &HMACVerifier{Style: style, Secret: secret, Header: header, TimestampHeader: timestampHeader, ReplayWindow: window}, nil
}

// SignatureHeader is the header name the verifier reads.
func (v *HMACVerifier) SignatureHeader() string {
	if v.Header != "" {
		return v.Header
	}
	if v.Style == StyleGitHub {
		return GitHubSignatureHeader
	}
	return GrafanaSignatureHeader
}

// Verify checks the signature headers of h against body. Errors match
// ErrUnauthenticated and one of ErrSignatureMissing, ErrSignatureInvalid,
// ErrTimestamp.
func (v *HMACVerifier) Verify(h http.Header, body []byte) error {
	name := v.SignatureHeader()
	got := strings.TrimSpace(h.Get(name))
	if got == "" {
		return &authError{ErrSignatureMissing, name}
	}
	if v.Style == StyleGitHub {
		hexSig, ok := strings.CutPrefix(got, "sha256=")
		if !ok {
			return &authError{ErrSignatureInvalid, name + ` must start with "sha256="`}
		}
		got = hexSig
	}
	sig, err := hex.DecodeString(got)
	if err != nil || len(sig) != sha256.Size {
		return &authError{ErrSignatureInvalid, name + " is not a hex SHA-256 HMAC"}
	}
	mac := hmac.New(sha256.New, v.Secret)
	if v.Style == StyleGrafana && v.TimestampHeader != "" {
		ts := strings.TrimSpace(h.Get(v.TimestampHeader))
		if err := v.checkTimestamp(ts); err != nil {
			return err
		}
		mac.Write([]byte(ts))
		mac.Write([]byte{':'})
	}
	mac.Write(body)
	if !hmac.Equal(mac.Sum(nil), sig) {
		return &authError{ErrSignatureInvalid, ""}
	}
	return nil
}

func (v *HMACVerifier) checkTimestamp(ts string) error {
	if ts == "" {
		return &authError{ErrTimestamp, v.TimestampHeader + " missing"}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return &authError{ErrTimestamp, v.TimestampHeader + " is not Unix seconds"}
	}
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	window := v.ReplayWindow
	if window == 0 {
		window = DefaultReplayWindow
	}
	skew := now().Sub(time.Unix(sec, 0))
	if skew > window || skew < -window {
		return &authError{ErrTimestamp, fmt.Sprintf("off by %s, window %s", skew.Round(time.Second), window)}
	}
	return nil
}
