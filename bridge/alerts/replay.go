package alerts

import (
	"crypto/sha256"
	"net/http"
	"strings"
	"time"
)

// SignedDigest is the SHA-256 of exactly the bytes the signature covers:
// "<timestamp>:<body>" for the Grafana style with a timestamp header, the
// body otherwise. A replay carries the same signed bytes (anything else
// fails Verify), so the digest identifies it; call it after Verify.
func (v *HMACVerifier) SignedDigest(h http.Header, body []byte) [sha256.Size]byte {
	d := sha256.New()
	if v.Style == StyleGrafana && v.TimestampHeader != "" {
		d.Write([]byte(strings.TrimSpace(h.Get(v.TimestampHeader))))
		d.Write([]byte{':'})
	}
	d.Write(body)
	var out [sha256.Size]byte
	d.Sum(out[:0])
	return out
}

// ReplayHorizon is how long the same signed bytes keep passing Verify:
// twice the replay window (the timestamp may be off either way) when a
// timestamp is signed, and 0 (for ever) when nothing but the body is.
func (v *HMACVerifier) ReplayHorizon() time.Duration {
	if v.Style != StyleGrafana || v.TimestampHeader == "" {
		return 0
	}
	w := v.ReplayWindow
	if w == 0 {
		w = DefaultReplayWindow
	}
	return 2 * w
}
