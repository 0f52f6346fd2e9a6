package alerts

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/rtbridge/rtbridge/event"
)

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The am-*.json fixtures are the exact bytes Alertmanager 0.25 (Debian
// prometheus-alertmanager) posted to a capture server: two alerts fire, one
// resolves, then the other resolves.
func TestParseAlertmanagerCaptured(t *testing.T) {
	n, err := Parse(event.KindAlertmanager, fixture(t, "am-firing.json"))
	if err != nil {
		t.Fatal(err)
	}
	if n.Version != "4" || n.Status != "firing" || n.Receiver != "rtbridge" ||
		n.GroupKey != `{}:{alertname="DiskFull"}` || n.ExternalURL != "http://127.0.0.1:19093" || n.TruncatedAlerts != 0 {
		t.Errorf("top level: %+v", n)
	}
	if n.GroupLabels["alertname"] != "DiskFull" || n.CommonLabels["severity"] != "critical" || len(n.CommonAnnotations) != 0 {
		t.Errorf("group/common: %v %v %v", n.GroupLabels, n.CommonLabels, n.CommonAnnotations)
	}
	if len(n.Alerts) != 2 {
		t.Fatalf("alerts: %d", len(n.Alerts))
	}
	a := n.Alerts[0]
	want := time.Date(2026, 11, 26, 23, 46, 2, 607157299, time.UTC)
	if a.Status != "firing" || a.Labels["instance"] != "db1:9100" || a.Annotations["description"] != "Only 3% left on /var" ||
		!a.StartsAt.Equal(want) || !a.EndsAt.IsZero() || a.Fingerprint != "efb0c6c488e007da" ||
		a.GeneratorURL != "http://prometheus.example:9090/graph?g0.expr=node_filesystem_avail_bytes+%3C+1e9" {
		t.Errorf("alert 0: %+v", a)
	}
	if n.Extra != nil || a.Extra != nil {
		t.Errorf("no unknown fields expected: %v %v", n.Extra, a.Extra)
	}
	// Our fingerprint equals Alertmanager's for every captured alert.
	for _, f := range []string{"am-firing.json", "am-changed.json", "am-resolved.json"} {
		n, err := Parse(event.KindAlertmanager, fixture(t, f))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, a := range n.Alerts {
			if got := Fingerprint(a.Labels); got != a.Fingerprint {
				t.Errorf("%s: Fingerprint(%v) = %s, Alertmanager sent %s", f, a.Labels, got, a.Fingerprint)
			}
		}
	}
	ch, _ := Parse(event.KindAlertmanager, fixture(t, "am-changed.json"))
	if ch.Alerts[0].Status != "resolved" || !ch.Alerts[0].EndsAt.Equal(time.Date(2026, 11, 26, 23, 46, 8, 0, time.UTC)) {
		t.Errorf("changed: %+v", ch.Alerts[0])
	}
	if got := SortedFingerprints(ch, "firing"); fmt.Sprint(got) != "[db73c85864f826bb]" {
		t.Errorf("firing fingerprints %v", got)
	}
	res, _ := Parse(event.KindAlertmanager, fixture(t, "am-resolved.json"))
	if res.Status != "resolved" || len(res.Alerts) != 1 {
		t.Errorf("resolved: %+v", res)
	}
}

// grafana-doc.json is the example body of Grafana's webhook notifier
// documentation, byte for byte.
func TestParseGrafanaDocumented(t *testing.T) {
	n, err := Parse(event.KindGrafana, fixture(t, "grafana-doc.json"))
	if err != nil {
		t.Fatal(err)
	}
	if n.Version != "1" || n.OrgID != 1 || n.Title != "[FIRING:2]  (blue)" || n.State != "alerting" ||
		!strings.HasPrefix(n.Message, "**Firing**\n\nLabels:\n - alertname = T2\n") || n.GroupKey != "{}:{}" ||
		n.ExternalURL != "https://play.grafana.org/" || n.CommonLabels["team"] != "blue" || n.GroupLabels == nil {
		t.Errorf("top level: %+v", n)
	}
	a := n.Alerts[1]
	if a.Fingerprint != "bc97ff14869b13e3" || a.Labels["zone"] != "eu-1" ||
		a.SilenceURL != "https://play.grafana.org/alerting/silence/new?alertmanager=grafana&matchers=alertname%3DT1%2Cteam%3Dblue%2Czone%3Deu-1" ||
		a.Values["B"] != 44.23943737541908 || a.Values["C"] != 1 || a.DashboardURL != "" || a.PanelURL != "" ||
		a.StartsAt.Format(time.RFC3339Nano) != "2021-10-12T09:56:03.157076+02:00" {
		t.Errorf("alert 1: %+v", a)
	}
	// Grafana's own format is not Alertmanager's, and vice versa.
	if _, err := Parse(event.KindAlertmanager, fixture(t, "grafana-doc.json")); !errors.Is(err, ErrVersion) {
		t.Errorf("grafana body on an alertmanager endpoint: %v", err)
	}
	if _, err := Parse(event.KindGrafana, fixture(t, "am-firing.json")); !errors.Is(err, ErrVersion) {
		t.Errorf("alertmanager body on a grafana endpoint: %v", err)
	}
}

func TestParseGrafanaOlderFields(t *testing.T) {
	// Grafana 9 documents valueString instead of values, and sends imageURL
	// and ruleUID when it has them.
	body := `{"receiver":"r","status":"resolved","orgId":3,"alerts":[{"status":"resolved","labels":{"a":"b"},
	"annotations":{},"startsAt":"2021-10-12T09:51:03.157076+02:00","endsAt":"2021-10-12T10:00:00Z",
	"valueString":"[ metric='' labels={} value=14151.331895396988 ]","imageURL":"https://img/x.png","ruleUID":"abc"}],
	"groupLabels":{},"commonLabels":{},"commonAnnotations":{},"externalURL":"","version":"1","groupKey":"k","truncatedAlerts":2}`
	n, err := Parse(event.KindGrafana, []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	a := n.Alerts[0]
	if a.ValueString != "[ metric='' labels={} value=14151.331895396988 ]" || a.ImageURL != "https://img/x.png" ||
		string(a.Extra["ruleUID"]) != `"abc"` || a.Fingerprint != Fingerprint(map[string]string{"a": "b"}) || n.TruncatedAlerts != 2 {
		t.Errorf("%+v", a)
	}
	if a.EndsAt.IsZero() {
		t.Error("endsAt lost")
	}
}

func TestParseKeepsUnknownFields(t *testing.T) {
	var m map[string]any
	json.Unmarshal(fixture(t, "am-firing.json"), &m)
	m["notification_reason"] = "group_changed"
	m["routeLabels"] = map[string]string{"team": "db"}
	m["alerts"].([]any)[0].(map[string]any)["future"] = []int{1, 2}
	body, _ := json.Marshal(m)
	n, err := Parse(event.KindAlertmanager, body)
	if err != nil {
		t.Fatal(err)
	}
	if string(n.Extra["notification_reason"]) != `"group_changed"` || string(n.Extra["routeLabels"]) != `{"team":"db"}` {
		t.Errorf("top extra: %v", n.Extra)
	}
	if string(n.Alerts[0].Extra["future"]) != `[1,2]` || n.Alerts[1].Extra != nil {
		t.Errorf("alert extra: %v / %v", n.Alerts[0].Extra, n.Alerts[1].Extra)
	}
	for k := range n.Extra {
		if k == "version" || k == "alerts" || k == "groupKey" {
			t.Errorf("known field %s left in Extra", k)
		}
	}
}

func TestParseComputesMissingFingerprint(t *testing.T) {
	body := strings.Replace(string(fixture(t, "am-firing.json")), `,"fingerprint":"efb0c6c488e007da"`, "", 1)
	n, err := Parse(event.KindAlertmanager, []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if n.Alerts[0].Fingerprint != "efb0c6c488e007da" {
		t.Errorf("computed %s, Alertmanager's is efb0c6c488e007da", n.Alerts[0].Fingerprint)
	}
	// Stable whatever the label order in the body.
	a := Fingerprint(map[string]string{"b": "2", "a": "1"})
	b := Fingerprint(map[string]string{"a": "1", "b": "2"})
	if a != b || len(a) != 16 {
		t.Errorf("%s %s", a, b)
	}
}

func TestParseErrors(t *testing.T) {
	good := string(fixture(t, "am-firing.json"))
	cases := []struct {
		name, body string
		field      string
		version    bool
	}{
		{"empty", "", "", false},
		{"spaces", "  \n", "", false},
		{"array", "[]", "", false},
		{"null", "null", "", false},
		{"string", `"x"`, "", false},
		{"truncated", good[:len(good)/2], "", false},
		{"trailing garbage", strings.TrimSpace(good) + "{}", "", false},
		{"no version", strings.Replace(good, `"version":"4",`, "", 1), "version", true},
		{"version 3", strings.Replace(good, `"version":"4"`, `"version":"3"`, 1), "version", true},
		{"version number", strings.Replace(good, `"version":"4"`, `"version":4`, 1), "version", true},
		{"status", strings.Replace(good, `"status":"firing","alerts"`, `"status":"FIRING","alerts"`, 1), "status", false},
		{"no status", strings.Replace(good, `"status":"firing","alerts"`, `"alerts"`, 1), "status", false},
		{"alert status", strings.Replace(good, `"alerts":[{"status":"firing"`, `"alerts":[{"status":"ok"`, 1), "alerts[0].status", false},
		{"no alerts", strings.Replace(good, `"alerts":[`, `"x":[`, 1), "alerts", false},
		{"empty alerts", `{"version":"4","status":"firing","groupKey":"k","alerts":[]}`, "alerts", false},
		{"alerts object", `{"version":"4","status":"firing","groupKey":"k","alerts":{}}`, "alerts", false},
		{"alert not object", `{"version":"4","status":"firing","groupKey":"k","alerts":[1]}`, "alerts[0]", false},
		{"label number", strings.Replace(good, `"severity":"critical"}`, `"severity":5}`, 1), "alerts[0].labels", false},
		{"labels array", strings.Replace(good, `"labels":{"alertname":"DiskFull","instance":"db1:9100","severity":"critical"}`, `"labels":["a"]`, 1), "alerts[0].labels", false},
		{"empty label name", strings.Replace(good, `"groupLabels":{"alertname"`, `"groupLabels":{""`, 1), "groupLabels", false},
		{"startsAt", strings.Replace(good, `"startsAt":"2026-11-26T23:46:02.607157299Z"`, `"startsAt":"yesterday"`, 1), "alerts[0].startsAt", false},
		{"truncatedAlerts negative", strings.Replace(good, `"truncatedAlerts":0`, `"truncatedAlerts":-1`, 1), "truncatedAlerts", false},
		{"truncatedAlerts string", strings.Replace(good, `"truncatedAlerts":0`, `"truncatedAlerts":"0"`, 1), "truncatedAlerts", false},
		{"receiver number", strings.Replace(good, `"receiver":"rtbridge"`, `"receiver":1`, 1), "receiver", false},
		{"no groupKey", strings.Replace(good, `,"groupKey":"{}:{alertname=\"DiskFull\"}"`, "", 1), "groupKey", false},
	}
	for _, c := range cases {
		_, err := Parse(event.KindAlertmanager, []byte(c.body))
		var pe *ParseError
		if !errors.Is(err, ErrInvalid) || !errors.As(err, &pe) {
			t.Errorf("%s: err = %v, want a ParseError", c.name, err)
			continue
		}
		if pe.Field != c.field {
			t.Errorf("%s: field %q, want %q (%v)", c.name, pe.Field, c.field, err)
		}
		if errors.Is(err, ErrVersion) != c.version {
			t.Errorf("%s: ErrVersion = %v (%v)", c.name, !c.version, err)
		}
		if strings.ContainsAny(err.Error(), "\r\n") {
			t.Errorf("%s: multi-line error %q", c.name, err)
		}
	}
	grafana := string(fixture(t, "grafana-doc.json"))
	for name, body := range map[string]string{
		"orgId string": strings.Replace(grafana, `"orgId": 1`, `"orgId": "1"`, 1),
		"values text":  strings.Replace(grafana, `"C": 1`, `"C": "one"`, 1),
	} {
		if _, err := Parse(event.KindGrafana, []byte(body)); !errors.Is(err, ErrInvalid) {
			t.Errorf("grafana %s: %v", name, err)
		}
	}
	if _, err := Parse(event.KindJSON, []byte(good)); !errors.Is(err, ErrKind) || errors.Is(err, ErrInvalid) {
		t.Errorf("json kind: %v", err)
	}
}

// Hostile content is kept exactly (escaping is the writer's job), and it
// never leaks into error messages as raw lines.
func TestParseHostileContent(t *testing.T) {
	big := strings.Repeat("A", 100<<10)
	hostile := map[string]string{
		"alertname": "Hostile",
		"instance":  "x\nQueue: Admin\nStatus: resolved",
		"tmpl":      "{{ .Secret }}{{ template \"x\" }}${HOME}$(id)",
		"crlf":      "a\r\nRequestor: evil@example.com\r\n\r\nid: ticket/1",
		"nul":       "a\x00b",
		"big":       big,
	}
	body, _ := json.Marshal(map[string]any{
		"version": "4", "status": "firing", "receiver": "r\nQueue: Admin", "groupKey": "{}:{x=\"\n\"}",
		"groupLabels": hostile, "commonLabels": hostile, "commonAnnotations": map[string]string{"summary": big},
		"alerts": []any{map[string]any{"status": "firing", "labels": hostile, "annotations": hostile,
			"startsAt": "2026-01-01T00:00:00Z"}},
	})
	n, err := Parse(event.KindAlertmanager, body)
	if err != nil {
		t.Fatal(err)
	}
	a := n.Alerts[0]
	for k, v := range hostile {
		if a.Labels[k] != v || a.Annotations[k] != v || n.GroupLabels[k] != v {
			t.Errorf("%s changed", k)
		}
	}
	if n.Receiver != "r\nQueue: Admin" || n.CommonAnnotations["summary"] != big {
		t.Error("top-level values changed")
	}
	if a.Fingerprint != Fingerprint(hostile) || strings.ContainsAny(a.Fingerprint, "\n{") {
		t.Errorf("fingerprint %q", a.Fingerprint)
	}
	bad := strings.Replace(string(body), `"status":"firing"`, `"status":"firing\nQueue: Admin"`, 1)
	_, err = Parse(event.KindAlertmanager, []byte(bad))
	if err == nil || strings.Contains(err.Error(), "\n") {
		t.Errorf("hostile status: %q", err)
	}
}

func FuzzParse(f *testing.F) {
	for _, name := range []string{"am-firing.json", "am-changed.json", "am-resolved.json", "grafana-doc.json"} {
		f.Add(fixture(f, name), name == "grafana-doc.json")
	}
	f.Add([]byte(`{"version":"4","status":"firing","groupKey":"k","alerts":[{"status":"firing"}]}`), false)
	f.Fuzz(func(t *testing.T, body []byte, grafana bool) {
		kind := event.KindAlertmanager
		if grafana {
			kind = event.KindGrafana
		}
		n, err := Parse(kind, body)
		if err != nil {
			if !errors.Is(err, ErrInvalid) || strings.ContainsAny(err.Error(), "\r\n") {
				t.Fatalf("bad error %q", err)
			}
			return
		}
		if len(n.Alerts) == 0 || (n.Status != "firing" && n.Status != "resolved") {
			t.Fatalf("accepted an impossible notification: %+v", n)
		}
		for _, a := range n.Alerts {
			if a.Fingerprint == "" || a.Labels == nil || a.Annotations == nil {
				t.Fatalf("alert not normalised: %+v", a)
			}
		}
	})
}

func BenchmarkParseGroup200(b *testing.B) {
	alerts := make([]any, 200)
	for i := range alerts {
		alerts[i] = map[string]any{"status": "firing", "startsAt": "2026-01-01T00:00:00Z",
			"labels":      map[string]string{"alertname": "X", "instance": fmt.Sprintf("host%d:9100", i), "severity": "warning"},
			"annotations": map[string]string{"summary": "something is wrong on this host, look at it"}}
	}
	body, _ := json.Marshal(map[string]any{"version": "4", "status": "firing", "groupKey": "{}:{alertname=\"X\"}", "alerts": alerts})
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := Parse(event.KindAlertmanager, body); err != nil {
			b.Fatal(err)
		}
	}
}
