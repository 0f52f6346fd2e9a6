package webhook

import (
	"context"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rtbridge/rtbridge/bridge/config"
	"github.com/rtbridge/rtbridge/bridge/store"
)

// A signed body sent again with its signature is a duplicate of the first
// delivery (it changes nothing), whatever unsigned delivery id it carries;
// the same digest after the replay dedup window is a new event (the limit
// of a style that signs no timestamp).
func TestGitHubReplayIsDuplicate(t *testing.T) {
	var clock atomic.Int64
	clock.Store(time.Now().UnixMilli())
	st, err := store.Open(context.Background(), t.TempDir(), store.Options{Now: func() time.Time { return time.UnixMilli(clock.Load()) }})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	hooks := []config.Webhook{{Name: "gh", Path: "/gh", Kind: config.KindJSON, MaxBodyBytes: 1 << 20, DedupHeader: "X-GitHub-Delivery",
		Auth: config.Auth{HMAC: &config.HMACAuth{Style: "github", Secret: "gh-secret"}}}}
	s, err := New(hooks, Options{Sink: st, HMAC: HMAC, Limits: config.HTTPLimits{ReplayDedupWindow: time.Hour}})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s)
	defer ts.Close()
	body := `{"action":"opened","n":1}`
	sig := "sha256=" + hexHMAC("gh-secret", body)
	first := post(t, ts.URL+"/gh", body, map[string]string{"X-Hub-Signature-256": sig, "X-GitHub-Delivery": "d-1"})
	if first.code != 202 || first.rep.Duplicate {
		t.Fatalf("first: %d %+v", first.code, first.rep)
	}
	for _, id := range []string{"d-1", "d-2", ""} {
		r := post(t, ts.URL+"/gh", body, map[string]string{"X-Hub-Signature-256": sig[:7] + strings.ToUpper(sig[7:]), "X-GitHub-Delivery": id, "Idempotency-Key": id})
		if r.code != 202 || !r.rep.Duplicate || r.rep.DuplicateOf != first.rep.ID {
			t.Errorf("replay with delivery id %q: %d %+v", id, r.code, r.rep)
		}
	}
	// Another body is another event.
	other := `{"action":"opened","n":2}`
	if r := post(t, ts.URL+"/gh", other, map[string]string{"X-Hub-Signature-256": "sha256=" + hexHMAC("gh-secret", other)}); r.code != 202 || r.rep.Duplicate {
		t.Errorf("other body: %d %+v", r.code, r.rep)
	}
	clock.Add((61 * time.Minute).Milliseconds())
	if r := post(t, ts.URL+"/gh", body, map[string]string{"X-Hub-Signature-256": sig}); r.code != 202 || r.rep.Duplicate {
		t.Errorf("after the window: %d %+v", r.code, r.rep)
	}
}

// Grafana: within the replay window the same "<ts>:<body>" is a duplicate;
// outside it the timestamp check refuses it (401) and nothing is stored;
// the same body with a fresh timestamp is a new delivery.
func TestGrafanaReplay(t *testing.T) {
	st := openStore(t)
	ts := newAlertServer(t, st)
	body := testdata(t, "grafana-doc.json")
	signed := func(at time.Time) map[string]string {
		ts := strconv.FormatInt(at.Unix(), 10)
		return map[string]string{"X-Grafana-Alerting-Signature": hexHMAC("gf-secret", ts+":"+body), "X-Grafana-Alerting-Timestamp": ts}
	}
	sent := signed(time.Now().Add(-4 * time.Minute))
	first := post(t, ts.URL+"/grafana", body, sent)
	replay := post(t, ts.URL+"/grafana", body, sent)
	if first.code != 202 || replay.code != 202 || !replay.rep.Duplicate || replay.rep.DuplicateOf != first.rep.ID {
		t.Fatalf("first %+v, replay %+v", first, replay)
	}
	if r := post(t, ts.URL+"/grafana", body, signed(time.Now())); r.code != 202 || r.rep.Duplicate {
		t.Errorf("fresh timestamp: %d %+v", r.code, r.rep)
	}
	before := stored(t, st)
	if r := post(t, ts.URL+"/grafana", body, signed(time.Now().Add(-6*time.Minute))); r.code != 401 {
		t.Errorf("outside the window: %d %+v", r.code, r.rep)
	}
	if after := stored(t, st); after != before {
		t.Errorf("a refused replay stored %d events", after-before)
	}
}

func TestGrafanaNeedsTimestamp(t *testing.T) {
	hooks := []config.Webhook{{Name: "g", Path: "/g", Kind: config.KindGrafana, MaxBodyBytes: 100,
		Auth: config.Auth{HMAC: &config.HMACAuth{Style: "grafana", Secret: "s"}}}}
	_, err := New(hooks, Options{Sink: openStore(t), Kinds: AlertKinds(), HMAC: HMAC})
	if err == nil || !strings.Contains(err.Error(), "webhook g: auth.hmac: the grafana style needs timestamp_header") {
		t.Fatalf("got %v", err)
	}
}
