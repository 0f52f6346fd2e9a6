// Package alerts parses and authenticates monitoring notifications: the
// Alertmanager webhook (payload version 4) and the Grafana unified alerting
// webhook (version 1). It turns the exact bytes received into an
// event.AlertNotification, keeping fields it does not know in Extra, and
// verifies body signatures (GitHub-style and Grafana-style HMAC-SHA256).
//
// Parsing is strict about shape (a wrong version, type or status is an
// error matching ErrInvalid, which the webhook answers with 400) and lenient
// about content: label and annotation values are kept byte for byte, however
// hostile; escaping them is the job of whoever writes them somewhere.
package alerts

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/rtbridge/rtbridge/event"
)

// Versions the parser accepts, per kind.
const (
	AlertmanagerVersion = "4"
	GrafanaVersion      = "1"
)

// Sentinel errors; every parse error matches ErrInvalid, and a version
// mismatch also matches ErrVersion.
var (
	ErrInvalid = errors.New("invalid alert notification")
	ErrVersion = errors.New("unsupported payload version")
	ErrKind    = errors.New("not an alert kind")
)

// ParseError says which field of which payload is wrong. Its message is safe
// to return to the sender (it quotes no field values beyond short enums).
type ParseError struct {
	Kind   event.Kind
	Field  string // JSON path, e.g. "alerts[2].startsAt"; "" for the body
	Reason string
	err    error // ErrVersion or nil
}

func (e *ParseError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("%s payload: %s", e.Kind, e.Reason)
	}
	return fmt.Sprintf("%s payload: %s: %s", e.Kind, e.Field, e.Reason)
}

// Unwrap lets errors.Is match ErrInvalid and, for version errors, ErrVersion.
func (e *ParseError) Unwrap() []error {
	if e.err != nil {
		return []error{ErrInvalid, e.err}
	}
	return []error{ErrInvalid}
}

// Parse decodes an Alertmanager or Grafana notification. kind must be
// event.KindAlertmanager or event.KindGrafana. A missing alert fingerprint is
// computed from the alert's labels the way Alertmanager does, so keys stay
// stable whichever sender filled it.
func Parse(kind event.Kind, body []byte) (*event.AlertNotification, error) {
	var want string
	switch kind {
	case event.KindAlertmanager:
		want = AlertmanagerVersion
	case event.KindGrafana:
		want = GrafanaVersion
	default:
		return nil, fmt.Errorf("alerts.Parse: kind %q: %w", kind, ErrKind)
	}
	d := &decoder{kind: kind}
	top, err := d.object("", body)
	if err != nil {
		return nil, err
	}
	n := &event.AlertNotification{}
	if err := d.version(top, want, &n.Version); err != nil {
		return nil, err
	}
	d.str(top, "status", &n.Status, true)
	d.status("status", n.Status)
	d.str(top, "receiver", &n.Receiver, false)
	d.str(top, "groupKey", &n.GroupKey, kind == event.KindAlertmanager)
	d.integer(top, "truncatedAlerts", &n.TruncatedAlerts)
	n.GroupLabels = d.strMap(top, "groupLabels")
	n.CommonLabels = d.strMap(top, "commonLabels")
	n.CommonAnnotations = d.strMap(top, "commonAnnotations")
	d.str(top, "externalURL", &n.ExternalURL, false)
	if kind == event.KindGrafana {
		d.int64(top, "orgId", &n.OrgID)
		d.str(top, "title", &n.Title, false)
		d.str(top, "state", &n.State, false)
		d.str(top, "message", &n.Message, false)
	}
	n.Alerts = d.alerts(top)
	if d.err != nil {
		return nil, d.err
	}
	if len(top) > 0 {
		n.Extra = top
	}
	return n, nil
}

func (d *decoder) alerts(top map[string]json.RawMessage) []event.Alert {
	raw, ok := take(top, "alerts")
	if d.err != nil {
		return nil
	}
	if !ok || isNull(raw) {
		d.fail("alerts", "missing; a notification carries at least one alert")
		return nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		d.fail("alerts", "not an array")
		return nil
	}
	if len(items) == 0 {
		d.fail("alerts", "empty; a notification carries at least one alert")
		return nil
	}
	out := make([]event.Alert, 0, len(items))
	for i, item := range items {
		a := d.alert(fmt.Sprintf("alerts[%d]", i), item)
		if d.err != nil {
			return nil
		}
		out = append(out, a)
	}
	return out
}

func (d *decoder) alert(path string, raw json.RawMessage) event.Alert {
	var a event.Alert
	m, err := d.object(path, raw)
	if err != nil {
		return a
	}
	sub := &decoder{kind: d.kind, prefix: path + "."}
	sub.str(m, "status", &a.Status, true)
	sub.status("status", a.Status)
	a.Labels = sub.strMap(m, "labels")
	a.Annotations = sub.strMap(m, "annotations")
	a.StartsAt = sub.time(m, "startsAt")
	a.EndsAt = sub.time(m, "endsAt")
	sub.str(m, "generatorURL", &a.GeneratorURL, false)
	sub.str(m, "fingerprint", &a.Fingerprint, false)
	if d.kind == event.KindGrafana {
		sub.str(m, "silenceURL", &a.SilenceURL, false)
		sub.str(m, "dashboardURL", &a.DashboardURL, false)
		sub.str(m, "panelURL", &a.PanelURL, false)
		sub.str(m, "imageURL", &a.ImageURL, false)
		sub.str(m, "valueString", &a.ValueString, false)
		a.Values = sub.values(m, "values")
	}
	if sub.err != nil {
		d.err = sub.err
		return a
	}
	if strings.TrimSpace(a.Fingerprint) == "" {
		a.Fingerprint = Fingerprint(a.Labels)
	}
	if len(m) > 0 {
		a.Extra = m
	}
	return a
}
