package webhook

import (
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/rtbridge/rtbridge/bridge/alerts"
	"github.com/rtbridge/rtbridge/bridge/config"
	"github.com/rtbridge/rtbridge/event"
)

// AlertKinds returns the alertmanager and grafana endpoint kinds, for
// Options.Kinds. Their Check parses the body with alerts.Parse, so a wrong
// version or shape is a 400 naming the field (Alertmanager drops 4xx
// notifications, which is right: the same bytes can never succeed).
func AlertKinds() map[string]Kind {
	return map[string]Kind{
		config.KindAlertmanager: alertKind(event.KindAlertmanager),
		config.KindGrafana:      alertKind(event.KindGrafana),
	}
}

func alertKind(k event.Kind) Kind {
	return Kind{Event: k, Check: func(body []byte) error {
		_, err := alerts.Parse(k, body)
		return err
	}}
}

// HMAC builds the verifier of an endpoint with `auth: {hmac: …}`, for
// Options.HMAC: GitHub style (X-Hub-Signature-256: sha256=<hex>) or Grafana
// style (X-Grafana-Alerting-Signature over "<ts>:<body>" with a replay
// window). The secret was loaded by package config.
//
// The Grafana style needs timestamp_header: without a signed timestamp a
// captured body stays valid for ever. Within the window a replay still
// passes the signature check; what makes it harmless is the replay key
// (the digest of the signed bytes), which the server records so that the
// same bytes again are a duplicate that changes nothing.
func HMAC(a config.HMACAuth) (Verifier, error) {
	if alerts.Style(a.Style) == alerts.StyleGrafana && a.TimestampHeader == "" {
		return nil, errors.New("auth.hmac: the grafana style needs timestamp_header (Grafana's HMAC \"Timestamp header\" setting), " +
			"or a captured body could be replayed at any time")
	}
	v, err := alerts.NewHMACVerifier(alerts.Style(a.Style), []byte(a.Secret), a.Header, a.TimestampHeader, a.ReplayWindow)
	if err != nil {
		return nil, fmt.Errorf("auth.hmac: %w", err)
	}
	return hmacVerifier{v}, nil
}

// hmacVerifier makes signature failures match ErrUnauthorized too.
type hmacVerifier struct{ v *alerts.HMACVerifier }

func (h hmacVerifier) Verify(hdr http.Header, body []byte) error {
	if err := h.v.Verify(hdr, body); err != nil {
		return fmt.Errorf("%w: %w", ErrUnauthorized, err)
	}
	return nil
}

func (h hmacVerifier) ReplayKey(hdr http.Header, body []byte) (string, time.Duration) {
	d := h.v.SignedDigest(hdr, body)
	return "hmac-sha256:" + hex.EncodeToString(d[:]), h.v.ReplayHorizon()
}
