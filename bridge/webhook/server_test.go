package webhook

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rtbridge/rtbridge/bridge/config"
	"github.com/rtbridge/rtbridge/bridge/metrics"
	"github.com/rtbridge/rtbridge/bridge/source"
	"github.com/rtbridge/rtbridge/bridge/store"
)

func openStore(t testing.TB) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func hooks() []config.Webhook {
	return []config.Webhook{
		{Name: "deploys", Path: "/hooks/deploy", Kind: "json", MaxBodyBytes: 64,
			Auth: config.Auth{Bearer: &config.BearerAuth{Token: "s3cret-token"}}},
		{Name: "ci", Path: "/hooks/ci", Kind: "json", MaxBodyBytes: 1 << 20, DedupHeader: "X-Delivery",
			Auth: config.Auth{Basic: &config.BasicAuth{Username: "ci", Password: "ci-pass"}}},
		{Name: "open", Path: "/hooks/open", Kind: "json", MaxBodyBytes: 1 << 20, Auth: config.Auth{None: true}},
	}
}

func newServer(t testing.TB, st source.Sink) (*Server, *httptest.Server, *metrics.Metrics) {
	t.Helper()
	m := metrics.New()
	s, err := New(hooks(), Options{Sink: m.Sink(st), Metrics: m})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return s, ts, m
}

type result struct {
	code int
	rep  reply
	hdr  http.Header
}

func post(t *testing.T, url, body string, hdr map[string]string) result {
	t.Helper()
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var rep reply
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatalf("answer %d is not JSON: %q", resp.StatusCode, b)
	}
	return result{resp.StatusCode, rep, resp.Header}
}

func stored(t *testing.T, st *store.Store) int {
	t.Helper()
	stats, err := st.Stats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range stats.ByState {
		n += c
	}
	return n
}

func TestRejectedRequestsStoreNothing(t *testing.T) {
	st := openStore(t)
	_, ts, _ := newServer(t, st)
	bearer := map[string]string{"Authorization": "Bearer s3cret-token"}
	for _, tc := range []struct {
		name, path, body string
		hdr              map[string]string
		code             int
		errWant          string
	}{
		{"no auth", "/hooks/deploy", `{"a":1}`, nil, 401, "authentication required"},
		{"wrong token", "/hooks/deploy", `{"a":1}`, map[string]string{"Authorization": "Bearer nope"}, 401, "authentication required"},
		{"basic to bearer", "/hooks/deploy", `{"a":1}`, map[string]string{"Authorization": "Basic Y2k6Y2ktcGFzcw=="}, 401, "authentication required"},
		{"wrong basic", "/hooks/ci", `{"a":1}`, map[string]string{"Authorization": "Basic Y2k6d3Jvbmc="}, 401, "authentication required"},
		{"oversize", "/hooks/deploy", `{"a":"` + strings.Repeat("x", 100) + `"}`, bearer, 413, "body larger than 64 bytes"},
		{"bad json", "/hooks/deploy", "{\n \"a\": 1,\n}", bearer, 400, "invalid JSON at line 3, column 1: invalid character '}' looking for beginning of object key string"},
		{"truncated", "/hooks/deploy", `{"a": [1, 2`, bearer, 400, "invalid JSON: the body ends before the value does"},
		{"trailing", "/hooks/deploy", `{"a":1} x`, bearer, 400, "invalid JSON at line 1, column 9: unexpected data after the top-level value"},
		{"scalar", "/hooks/deploy", `"hello"`, bearer, 400, "the body must be a JSON object or array, not a string"},
		{"empty", "/hooks/deploy", ``, bearer, 400, "empty body"},
		{"long delivery id", "/hooks/open", `{}`, map[string]string{"Idempotency-Key": strings.Repeat("k", 300)}, 400, "delivery id header longer than 256 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := post(t, ts.URL+tc.path, tc.body, tc.hdr)
			if r.code != tc.code || r.rep.Error != tc.errWant {
				t.Errorf("got %d %q, want %d %q", r.code, r.rep.Error, tc.code, tc.errWant)
			}
			if tc.code == 401 && tc.path == "/hooks/deploy" && r.hdr.Get("WWW-Authenticate") != `Bearer realm="rtbridge"` {
				t.Errorf("WWW-Authenticate = %q", r.hdr.Get("WWW-Authenticate"))
			}
		})
	}
	resp, err := http.Get(ts.URL + "/hooks/open")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 405 || resp.Header.Get("Allow") != "POST" {
		t.Errorf("GET: %d Allow=%q", resp.StatusCode, resp.Header.Get("Allow"))
	}
	if n := stored(t, st); n != 0 {
		t.Errorf("%d events stored after only rejected requests", n)
	}
}

func TestAcceptedAfterCommit(t *testing.T) {
	st := openStore(t)
	_, ts, m := newServer(t, st)
	r := post(t, ts.URL+"/hooks/deploy", `{"service":"api","version":"1.2"}`, map[string]string{
		"Authorization": "Bearer s3cret-token", "X-Trace": "abc", "X-Api-Token": "leak-me-not"})
	if r.code != 202 || r.rep.ID == "" {
		t.Fatalf("got %d %+v", r.code, r.rep)
	}
	ev, err := st.Event(context.Background(), r.rep.ID)
	if err != nil {
		t.Fatal(err)
	}
	if ev.Source != "deploys" || ev.Kind != "json" || ev.State != store.StateAccepted {
		t.Errorf("stored event %+v", ev)
	}
	if ev.Meta[MetaPath] != "/hooks/deploy" || ev.Meta["header.X-Trace"] != "abc" {
		t.Errorf("meta %v", ev.Meta)
	}
	for k, v := range ev.Meta {
		if strings.Contains(v, "s3cret") || strings.Contains(v, "leak-me-not") || strings.Contains(k, "Authorization") {
			t.Errorf("secret header stored: %s=%s", k, v)
		}
	}
	raw, err := st.Raw(context.Background(), r.rep.ID)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(raw)
	raw.Close()
	jb, err := ParseJSON(b, ev.Meta)
	if err != nil {
		t.Fatal(err)
	}
	if jb.Body.(map[string]any)["service"] != "api" || jb.Header.Get("X-Trace") != "abc" || jb.Path != "/hooks/deploy" {
		t.Errorf("parsed %+v", jb)
	}

	// Basic auth and delivery ids: the second delivery is a duplicate.
	basic := map[string]string{"Authorization": "Basic Y2k6Y2ktcGFzcw==", "X-Delivery": "d-1"}
	first := post(t, ts.URL+"/hooks/ci", `[1,2,3]`, basic)
	second := post(t, ts.URL+"/hooks/ci", `[1,2,3]`, basic)
	if first.code != 202 || second.code != 202 || !second.rep.Duplicate || second.rep.DuplicateOf != first.rep.ID {
		t.Errorf("dedup: first %+v second %+v", first, second)
	}
	if got := testutilCount(t, m, `rtbridge_events_accepted_total{source="ci"} 1`); !got {
		t.Error("accepted counter for ci is not 1")
	}
}

func testutilCount(t *testing.T, m *metrics.Metrics, line string) bool {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	return strings.Contains(rec.Body.String(), line)
}

func TestStoreFailureIs503(t *testing.T) {
	st := openStore(t)
	_, ts, _ := newServer(t, st)
	st.Close()
	r := post(t, ts.URL+"/hooks/open", `{"a":1}`, nil)
	if r.code != 503 || r.hdr.Get("Retry-After") == "" || r.rep.ID != "" {
		t.Errorf("got %d %+v Retry-After=%q", r.code, r.rep, r.hdr.Get("Retry-After"))
	}
}

func TestStopAndUpdate(t *testing.T) {
	st := openStore(t)
	s, ts, _ := newServer(t, st)
	// A failing update keeps the old endpoints.
	bad := append(hooks(), config.Webhook{Name: "x", Path: "/x", Kind: "alertmanager", Auth: config.Auth{None: true}})
	if err := s.Update(bad); err == nil || !strings.Contains(err.Error(), `kind "alertmanager" is not available`) {
		t.Errorf("update error = %v", err)
	}
	if !s.Handles("/hooks/deploy") || s.Handles("/x") {
		t.Error("failed update changed the endpoints")
	}
	if err := s.Update(hooks()[2:]); err != nil {
		t.Fatal(err)
	}
	if s.Handles("/hooks/deploy") {
		t.Error("removed endpoint still served")
	}
	s.Stop()
	if r := post(t, ts.URL+"/hooks/open", `{}`, nil); r.code != 503 {
		t.Errorf("after Stop: %d", r.code)
	}
	if n := stored(t, st); n != 0 {
		t.Errorf("%d stored", n)
	}
}
