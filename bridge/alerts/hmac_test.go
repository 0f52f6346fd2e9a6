package alerts

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// sign builds a signature independently of the verifier, the way the
// senders document it.
func sign(secret, msg string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(msg))
	return hex.EncodeToString(m.Sum(nil))
}

func header(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Set(kv[i], kv[i+1])
	}
	return h
}

// TestGitHubKnownAnswer uses GitHub's documented example ("Validating webhook
// deliveries": secret "It's a Secret to Everybody", payload "Hello, World!"),
// cross-checked with `openssl dgst -sha256 -hmac`.
func TestGitHubKnownAnswer(t *testing.T) {
	v, err := NewHMACVerifier(StyleGitHub, []byte("It's a Secret to Everybody"), "", "", 0)
	if err != nil {
		t.Fatal(err)
	}
	const want = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
	if err := v.Verify(header("X-Hub-Signature-256", want), []byte("Hello, World!")); err != nil {
		t.Fatalf("documented signature rejected: %v", err)
	}
	// Upper-case hex is the same signature.
	if err := v.Verify(header("X-Hub-Signature-256", "sha256="+strings.ToUpper(want[7:])), []byte("Hello, World!")); err != nil {
		t.Fatalf("upper-case hex rejected: %v", err)
	}
}

func TestGitHubRejects(t *testing.T) {
	v, _ := NewHMACVerifier(StyleGitHub, []byte("s3cret"), "", "", 0)
	body := []byte(`{"version":"4"}`)
	good := "sha256=" + sign("s3cret", string(body))
	cases := []struct {
		name string
		h    http.Header
		body []byte
		want error
	}{
		{"missing", header(), body, ErrSignatureMissing},
		{"no prefix", header("X-Hub-Signature-256", good[7:]), body, ErrSignatureInvalid},
		{"sha1 prefix", header("X-Hub-Signature-256", "sha1="+good[7:]), body, ErrSignatureInvalid},
		{"not hex", header("X-Hub-Signature-256", "sha256=zz"+good[9:]), body, ErrSignatureInvalid},
		{"short", header("X-Hub-Signature-256", good[:len(good)-2]), body, ErrSignatureInvalid},
		{"other secret", header("X-Hub-Signature-256", "sha256="+sign("other", string(body))), body, ErrSignatureInvalid},
		{"body changed by one byte", header("X-Hub-Signature-256", good), []byte(`{"version":"4"} `), ErrSignatureInvalid},
		{"re-encoded body", header("X-Hub-Signature-256", good), []byte(`{"version": "4"}`), ErrSignatureInvalid},
	}
	for _, c := range cases {
		err := v.Verify(c.h, c.body)
		if !errors.Is(err, c.want) || !errors.Is(err, ErrUnauthenticated) {
			t.Errorf("%s: err = %v, want %v", c.name, err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), "s3cret") {
			t.Errorf("%s: error leaks the secret: %v", c.name, err)
		}
	}
	if err := v.Verify(header("X-Hub-Signature-256", good), body); err != nil {
		t.Fatalf("good signature: %v", err)
	}
}

// TestGrafanaKnownAnswer: vectors computed with
// printf '...' | openssl dgst -sha256 -hmac grafana-secret.
func TestGrafanaKnownAnswer(t *testing.T) {
	body := []byte("{\"a\":1}\n")
	v, _ := NewHMACVerifier(StyleGrafana, []byte("grafana-secret"), "", "", 0)
	if err := v.Verify(header("X-Grafana-Alerting-Signature", "1b7645a02062a9841f0e00387693e4bdf8ccc4686d28403ecf34741c696d6576"), body); err != nil {
		t.Fatalf("body-only signature: %v", err)
	}
	v, _ = NewHMACVerifier(StyleGrafana, []byte("grafana-secret"), "", "X-Grafana-Alerting-Timestamp", time.Minute)
	v.Now = func() time.Time { return time.Unix(1700000030, 0) }
	h := header("X-Grafana-Alerting-Signature", "45caaebf9eebafaee69703d3d97e9a9c0a4d3b6188bd068c191e56a930cf2f6c",
		"X-Grafana-Alerting-Timestamp", "1700000000")
	if err := v.Verify(h, body); err != nil {
		t.Fatalf("timestamped signature: %v", err)
	}
}

func TestGrafanaTimestampAndReplayWindow(t *testing.T) {
	body, err := os.ReadFile("testdata/grafana-doc.json")
	if err != nil {
		t.Fatal(err)
	}
	const secret = "shared"
	now := time.Unix(1760000000, 0)
	v, _ := NewHMACVerifier(StyleGrafana, []byte(secret), "X-Sig", "X-Ts", 2*time.Minute)
	v.Now = func() time.Time { return now }
	signed := func(ts int64) http.Header {
		s := strconv.FormatInt(ts, 10)
		return header("X-Sig", sign(secret, s+":"+string(body)), "X-Ts", s)
	}
	if err := v.Verify(signed(now.Unix()-119), body); err != nil {
		t.Fatalf("inside the window: %v", err)
	}
	if err := v.Verify(signed(now.Unix()+60), body); err != nil {
		t.Fatalf("small clock skew ahead: %v", err)
	}
	for _, ts := range []int64{now.Unix() - 121, now.Unix() + 3600} {
		if err := v.Verify(signed(ts), body); !errors.Is(err, ErrTimestamp) {
			t.Errorf("ts %d: err = %v, want ErrTimestamp", ts, err)
		}
	}
	// A signature over the body alone does not pass when a timestamp is expected.
	h := header("X-Sig", sign(secret, string(body)), "X-Ts", strconv.FormatInt(now.Unix(), 10))
	if err := v.Verify(h, body); !errors.Is(err, ErrSignatureInvalid) {
		t.Errorf("body-only signature with timestamp configured: %v", err)
	}
	// A replayed signature with a fresh timestamp does not match.
	h = signed(now.Unix() - 500)
	h.Set("X-Ts", strconv.FormatInt(now.Unix(), 10))
	if err := v.Verify(h, body); !errors.Is(err, ErrSignatureInvalid) {
		t.Errorf("timestamp swapped: %v", err)
	}
	for _, bad := range []string{"", "1.5", "abc", "0x10"} {
		h := header("X-Sig", sign(secret, bad+":"+string(body)), "X-Ts", bad)
		if err := v.Verify(h, body); !errors.Is(err, ErrTimestamp) {
			t.Errorf("timestamp %q: err = %v", bad, err)
		}
	}
	// The default header name is Grafana's.
	d, _ := NewHMACVerifier(StyleGrafana, []byte(secret), "", "", 0)
	if d.SignatureHeader() != "X-Grafana-Alerting-Signature" {
		t.Errorf("default header %q", d.SignatureHeader())
	}
}

func TestNewHMACVerifierConfigErrors(t *testing.T) {
	if _, err := NewHMACVerifier("sha1", []byte("x"), "", "", 0); err == nil {
		t.Error("unknown style accepted")
	}
	if _, err := NewHMACVerifier(StyleGitHub, nil, "", "", 0); err == nil {
		t.Error("empty secret accepted")
	}
	if _, err := NewHMACVerifier(StyleGitHub, []byte("x"), "", "X-Ts", 0); err == nil {
		t.Error("timestamp header with github style accepted")
	}
}

func BenchmarkVerifyGitHub(b *testing.B) {
	body := make([]byte, 64<<10)
	v, _ := NewHMACVerifier(StyleGitHub, []byte("s"), "", "", 0)
	h := header("X-Hub-Signature-256", "sha256="+sign("s", string(body)))
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if err := v.Verify(h, body); err != nil {
			b.Fatal(err)
		}
	}
}

func TestSignedDigestAndHorizon(t *testing.T) {
	body := []byte(`{"a":1}`)
	gh, _ := NewHMACVerifier(StyleGitHub, []byte("s"), "", "", 0)
	if gh.SignedDigest(nil, body) != sha256.Sum256(body) || gh.ReplayHorizon() != 0 {
		t.Errorf("github: digest of the body, no horizon")
	}
	gf, _ := NewHMACVerifier(StyleGrafana, []byte("s"), "", "X-Ts", time.Minute)
	h := http.Header{"X-Ts": {" 1700000000 "}}
	if gf.SignedDigest(h, body) != sha256.Sum256([]byte(`1700000000:{"a":1}`)) || gf.ReplayHorizon() != 2*time.Minute {
		t.Errorf("grafana: digest of <ts>:<body>, horizon twice the window")
	}
}
