package webhook

import (
	"errors"
	"fmt"
	"net/http"

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
// style (X-Grafana-Alerting-Signature, optionally over "<ts>:<body>" with a
// replay window). The secret was loaded by package config.
//
// A replay inside the window passes the signature check; what makes it
// harmless is that alert notifications are idempotent for the lifecycle
// (an identical alert set causes no RT call). Set dedup_header to the
// signature header to record exact replays as duplicates.
func HMAC(a config.HMACAuth) (Verifier, error) {
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
		return errors.Join(ErrUnauthorized, err)
	}
	return nil
}
