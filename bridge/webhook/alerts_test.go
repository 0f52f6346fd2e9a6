package webhook

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rtbridge/rtbridge/bridge/alerts"
	"github.com/rtbridge/rtbridge/bridge/config"
	"github.com/rtbridge/rtbridge/bridge/source"
	"github.com/rtbridge/rtbridge/bridge/store"
	"github.com/rtbridge/rtbridge/event"
	"github.com/rtbridge/rtbridge/internal/amtest"
)

func alertHooks() []config.Webhook {
	return []config.Webhook{
		{Name: "am", Path: "/alertmanager", Kind: config.KindAlertmanager, MaxBodyBytes: 1 << 20,
			Auth: config.Auth{Bearer: &config.BearerAuth{Token: "am-token"}}},
		{Name: "grafana", Path: "/grafana", Kind: config.KindGrafana, MaxBodyBytes: 1 << 20,
			Auth: config.Auth{HMAC: &config.HMACAuth{Style: "grafana", Secret: "gf-secret", TimestampHeader: "X-Grafana-Alerting-Timestamp"}}},
		{Name: "am-signed", Path: "/am-signed", Kind: config.KindAlertmanager, MaxBodyBytes: 1 << 20,
			Auth: config.Auth{HMAC: &config.HMACAuth{Style: "github", Secret: "gh-secret"}}},
	}
}

func newAlertServer(t testing.TB, st *store.Store) *httptest.Server {
	t.Helper()
	s, err := New(alertHooks(), Options{Sink: st, Kinds: AlertKinds(), HMAC: HMAC})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return ts
}

func testdata(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "alerts", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func hexHMAC(secret, msg string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(msg))
	return hex.EncodeToString(m.Sum(nil))
}

// storedRaw returns the exact bytes the store kept for an event.
func storedRaw(t *testing.T, st *store.Store, id string) string {
	t.Helper()
	rc, err := st.Raw(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, _ := io.ReadAll(rc)
	return string(b)
}

func TestAlertmanagerEndpoint(t *testing.T) {
	st := openStore(t)
	ts := newAlertServer(t, st)
	body := testdata(t, "am-firing.json")
	bearer := map[string]string{"Authorization": "Bearer am-token", "Content-Type": "application/json"}

	r := post(t, ts.URL+"/alertmanager", body, bearer)
	if r.code != 202 || r.rep.ID == "" {
		t.Fatalf("captured Alertmanager body: %d %+v", r.code, r.rep)
	}
	if got := storedRaw(t, st, r.rep.ID); got != body {
		t.Fatalf("stored bytes differ from the received ones")
	}
	ev, err := st.Event(context.Background(), r.rep.ID)
	if err != nil || ev.Kind != string(event.KindAlertmanager) || ev.Source != "am" {
		t.Fatalf("stored event %+v %v", ev, err)
	}

	// Requests that can never succeed: 4xx, nothing stored.
	before := stored(t, st)
	for name, c := range map[string]struct {
		body string
		hdr  map[string]string
		code int
		msg  string
	}{
		"version 3":     {strings.Replace(body, `"version":"4"`, `"version":"3"`, 1), bearer, 400, `version: expected "4"`},
		"grafana body":  {testdata(t, "grafana-doc.json"), bearer, 400, "version"},
		"bad status":    {strings.Replace(body, `"status":"firing"`, `"status":"on fire"`, 1), bearer, 400, "status"},
		"no alerts":     {`{"version":"4","status":"firing","groupKey":"k","alerts":[]}`, bearer, 400, "alerts: empty"},
		"not json":      {"version=4", bearer, 400, "payload"},
		"wrong token":   {body, map[string]string{"Authorization": "Bearer nope"}, 401, "authentication"},
		"no token":      {body, nil, 401, "authentication"},
		"bad startsAt":  {strings.Replace(body, `"startsAt":"2026-11-26T23:46:02.607157299Z"`, `"startsAt":"now"`, 1), bearer, 400, "alerts[0].startsAt"},
		"label integer": {strings.Replace(body, `"severity":"critical"}`, `"severity":2}`, 1), bearer, 400, "alerts[0].labels"},
	} {
		r := post(t, ts.URL+"/alertmanager", c.body, c.hdr)
		if r.code != c.code || !strings.Contains(r.rep.Error, c.msg) {
			t.Errorf("%s: %d %q, want %d containing %q", name, r.code, r.rep.Error, c.code, c.msg)
		}
	}
	if after := stored(t, st); after != before {
		t.Errorf("rejected requests stored %d events", after-before)
	}
}

// Grafana cannot be installed here: the test signs the documented body the
// way Grafana's documentation describes (hex HMAC-SHA256 of "<ts>:<body>").
func TestGrafanaEndpointHMAC(t *testing.T) {
	st := openStore(t)
	ts := newAlertServer(t, st)
	body := testdata(t, "grafana-doc.json")
	now := strconv.FormatInt(time.Now().Unix(), 10)
	signed := map[string]string{
		"X-Grafana-Alerting-Signature": hexHMAC("gf-secret", now+":"+body),
		"X-Grafana-Alerting-Timestamp": now,
	}
	r := post(t, ts.URL+"/grafana", body, signed)
	if r.code != 202 {
		t.Fatalf("signed Grafana body: %d %+v", r.code, r.rep)
	}
	raw := storedRaw(t, st, r.rep.ID)
	n, err := alerts.Parse(event.KindGrafana, []byte(raw))
	if err != nil || n.OrgID != 1 || len(n.Alerts) != 2 {
		t.Fatalf("stored Grafana event does not parse back: %v", err)
	}
	ev, _ := st.Event(context.Background(), r.rep.ID)
	for k, v := range ev.Meta {
		if strings.Contains(v, signed["X-Grafana-Alerting-Signature"]) {
			t.Errorf("signature stored in meta %s", k)
		}
	}

	old := strconv.FormatInt(time.Now().Add(-time.Hour).Unix(), 10)
	before := stored(t, st)
	for name, hdr := range map[string]map[string]string{
		"stale timestamp": {"X-Grafana-Alerting-Signature": hexHMAC("gf-secret", old+":"+body), "X-Grafana-Alerting-Timestamp": old},
		"no timestamp":    {"X-Grafana-Alerting-Signature": hexHMAC("gf-secret", body)},
		"wrong secret":    {"X-Grafana-Alerting-Signature": hexHMAC("other", now+":"+body), "X-Grafana-Alerting-Timestamp": now},
		"no signature":    {"X-Grafana-Alerting-Timestamp": now},
	} {
		if r := post(t, ts.URL+"/grafana", body, hdr); r.code != 401 {
			t.Errorf("%s: %d %+v", name, r.code, r.rep)
		}
	}
	// A valid signature over a body with a wrong shape is still a 400.
	bad := strings.Replace(body, `"version": "1"`, `"version": "2"`, 1)
	if r := post(t, ts.URL+"/grafana", bad, map[string]string{
		"X-Grafana-Alerting-Signature": hexHMAC("gf-secret", now+":"+bad), "X-Grafana-Alerting-Timestamp": now}); r.code != 400 {
		t.Errorf("signed wrong version: %d", r.code)
	}
	if after := stored(t, st); after != before {
		t.Errorf("rejected requests stored %d events", after-before)
	}
}

func TestAlertmanagerEndpointGitHubSignature(t *testing.T) {
	st := openStore(t)
	ts := newAlertServer(t, st)
	body := testdata(t, "am-changed.json")
	if r := post(t, ts.URL+"/am-signed", body, map[string]string{"X-Hub-Signature-256": "sha256=" + hexHMAC("gh-secret", body)}); r.code != 202 {
		t.Fatalf("signed: %d %+v", r.code, r.rep)
	}
	if r := post(t, ts.URL+"/am-signed", body+" ", map[string]string{"X-Hub-Signature-256": "sha256=" + hexHMAC("gh-secret", body)}); r.code != 401 {
		t.Fatalf("one byte more: %d", r.code)
	}
}

func TestHMACConfigErrors(t *testing.T) {
	hooks := []config.Webhook{{Name: "x", Path: "/x", Kind: config.KindGrafana, MaxBodyBytes: 100,
		Auth: config.Auth{HMAC: &config.HMACAuth{Style: "sha1", Secret: "s"}}}}
	if _, err := New(hooks, Options{Sink: openStore(t), Kinds: AlertKinds(), HMAC: HMAC}); err == nil || !strings.Contains(err.Error(), "sha1") {
		t.Fatalf("unknown style: %v", err)
	}
}

// A real Alertmanager (Debian prometheus-alertmanager) delivers to the
// endpoint with its bearer token: fire two alerts, resolve one, resolve the
// other; every notification is accepted and stored byte for byte.
func TestRealAlertmanagerDelivers(t *testing.T) {
	st := openStore(t)
	ts := newAlertServer(t, st)
	tok := filepath.Join(t.TempDir(), "token")
	os.WriteFile(tok, []byte("am-token\n"), 0o600)
	am := amtest.Start(t, amtest.Config{ReceiverURL: ts.URL + "/alertmanager", TokenFile: tok,
		GroupWait: 100 * time.Millisecond, GroupInterval: 500 * time.Millisecond})
	ctx := context.Background()
	db1 := map[string]string{"alertname": "WebhookIT", "instance": "db1\nQueue: Admin"}
	db2 := map[string]string{"alertname": "WebhookIT", "instance": "db2", "tmpl": "{{ .Secret }}"}
	if err := am.Post(ctx, amtest.Alert{Labels: db1}, amtest.Alert{Labels: db2}); err != nil {
		t.Fatal(err)
	}
	first := waitNotifications(t, st, 1)[0]
	if first.Status != "firing" || len(first.Alerts) != 2 || first.GroupKey != `{}:{alertname="WebhookIT"}` {
		t.Fatalf("first notification %+v", first)
	}
	for _, a := range first.Alerts {
		if a.Fingerprint != alerts.Fingerprint(a.Labels) {
			t.Errorf("fingerprint %s != computed %s", a.Fingerprint, alerts.Fingerprint(a.Labels))
		}
	}
	if err := am.Post(ctx, amtest.Alert{Labels: db1, EndsAt: time.Now().Add(-time.Second)}); err != nil {
		t.Fatal(err)
	}
	second := waitNotifications(t, st, 2)[1]
	if fp := alerts.SortedFingerprints(second, "firing"); len(fp) != 1 || fp[0] != alerts.Fingerprint(db2) {
		t.Fatalf("after resolving db1, firing = %v", fp)
	}
	if err := am.Post(ctx, amtest.Alert{Labels: db2, EndsAt: time.Now().Add(-time.Second)}); err != nil {
		t.Fatal(err)
	}
	third := waitNotifications(t, st, 3)[2]
	if third.Status != "resolved" {
		t.Fatalf("last notification %+v", third)
	}
	if strings.Contains(am.Log(), "Notify for alerts failed") {
		t.Errorf("Alertmanager reported failed notifications:\n%s", am.Log())
	}
}

// waitNotifications waits until the store holds n accepted events (no
// executor runs here) and parses them in acceptance order.
func waitNotifications(t *testing.T, st *store.Store, n int) []*event.AlertNotification {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		evs, err := st.Runnable(context.Background(), time.Now().Add(time.Hour), 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) >= n {
			out := make([]*event.AlertNotification, 0, len(evs))
			for _, ev := range evs { // acceptance order
				an, err := alerts.Parse(event.KindAlertmanager, []byte(storedRaw(t, st, ev.ID)))
				if err != nil {
					t.Fatal(err)
				}
				out = append(out, an)
			}
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d notifications arrived", len(evs), n)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

type failingSink struct{}

func (failingSink) Accept(context.Context, source.Incoming) (source.Accepted, error) {
	return source.Accepted{}, errors.New("disk full")
}

// The store cannot commit: Alertmanager must retry, so the answer is a 5xx.
func TestAlertmanagerEndpointStoreDown(t *testing.T) {
	s, err := New(alertHooks(), Options{Sink: failingSink{}, Kinds: AlertKinds(), HMAC: HMAC})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s)
	defer ts.Close()
	r := post(t, ts.URL+"/alertmanager", testdata(t, "am-firing.json"), map[string]string{"Authorization": "Bearer am-token"})
	if r.code != 503 || r.hdr.Get("Retry-After") == "" || strings.Contains(r.rep.Error, "disk full") {
		t.Fatalf("store down: %d %+v %v", r.code, r.rep, r.hdr)
	}
}
