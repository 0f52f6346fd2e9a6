package e2e_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rtbridge/rtbridge/internal/testenv"
	"github.com/rtbridge/rtbridge/rtapi"
)

// amBody is an Alertmanager version 4 notification for one alert, in the
// shape Alertmanager sends (see bridge/alerts/testdata).
func amBody(name, status string, startsAt, endsAt time.Time) string {
	end := "0001-01-01T00:00:00Z"
	if !endsAt.IsZero() {
		end = endsAt.Format(time.RFC3339Nano)
	}
	return fmt.Sprintf(`{"receiver":"rtbridge","status":%[2]q,"alerts":[{"status":%[2]q,"labels":{"alertname":%[1]q,"instance":"db1:9100"},`+
		`"annotations":{"summary":"replay test"},"startsAt":%[3]q,"endsAt":%[4]q,"generatorURL":"","fingerprint":"0123456789abcdef"}],`+
		`"groupLabels":{"alertname":%[1]q},"commonLabels":{"alertname":%[1]q,"instance":"db1:9100"},"commonAnnotations":{},`+
		`"externalURL":"http://127.0.0.1:19093","version":"4","groupKey":"{}:{alertname=\"%[1]s\"}","truncatedAlerts":0}`,
		name, status, startsAt.UTC().Format(time.RFC3339Nano), end)
}

type hookReply struct {
	ID          string `json:"id"`
	Duplicate   bool   `json:"duplicate"`
	DuplicateOf string `json:"duplicate_of"`
}

// postSigned sends body with the given X-Hub-Signature-256 header.
func postSigned(t *testing.T, url, body, sig string) (int, hookReply) {
	t.Helper()
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Hub-Signature-256", sig)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r hookReply
	json.NewDecoder(resp.Body).Decode(&r)
	return resp.StatusCode, r
}

func githubSig(secret, body string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(body))
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// A captured, validly signed "firing" notification replayed after the
// alert resolved is accepted as a duplicate and changes nothing in RT: the
// ticket stays resolved and its history gains no transaction. A genuinely
// new firing (new startsAt, new signature) still acts, so the lifecycle
// was live all along.
func TestReplayedFiringDoesNotReopen(t *testing.T) {
	rt := testenv.RequireRT(t)
	name := fmt.Sprintf("Replay%d", time.Now().UnixNano())
	br := startBridge(t, rt.URL, rt.Token, lifecycleRules(name), 2)
	client, err := rtapi.New(rtapi.Config{URL: rt.URL, Auth: rtapi.NewTokenAuth(rt.Token)})
	if err != nil {
		t.Fatal(err)
	}
	q := &rtq{t: t, c: client, name: name}
	started := time.Now().Add(-time.Minute)
	firing := amBody(name, "firing", started, time.Time{})
	fireSig := githubSig(br.HMACSecret, firing) // what an eavesdropper captures

	code, fired := postSigned(t, br.SignedURL, firing, fireSig)
	if code != 202 || fired.Duplicate {
		t.Fatalf("firing: %d %+v", code, fired)
	}
	t1 := q.waitTickets("alerts", 1)[0]
	resolved := amBody(name, "resolved", started, time.Now())
	if code, r := postSigned(t, br.SignedURL, resolved, githubSig(br.HMACSecret, resolved)); code != 202 || r.Duplicate {
		t.Fatalf("resolved: %d %+v", code, r)
	}
	waitFor(t, "status resolved", func() bool { return q.ticket(t1).Status == "resolved" })
	settle()
	before := q.history(t1)

	code, replay := postSigned(t, br.SignedURL, firing, fireSig)
	if code != 202 || !replay.Duplicate || replay.DuplicateOf != fired.ID {
		t.Fatalf("replayed firing: %d %+v, want 202 duplicate of %s", code, replay, fired.ID)
	}
	settle()
	if s := q.ticket(t1).Status; s != "resolved" {
		t.Fatalf("ticket %d reopened by a replay: status %q", t1, s)
	}
	if after := q.history(t1); len(after) != len(before) {
		t.Fatalf("the replay added transactions to ticket %d: %v", t1, after[len(before):])
	}
	if ids := q.tickets("alerts"); len(ids) != 1 {
		t.Fatalf("the replay opened a ticket: %v", ids)
	}
	t.Logf("replay of event %s: 202 duplicate; ticket %d stays resolved with %d transactions", fired.ID, t1, len(before))

	// Control: a new firing of the same alert is acted on (reopened within
	// reopen_within, or a new ticket that refers to the old one).
	again := amBody(name, "firing", time.Now(), time.Time{})
	if code, r := postSigned(t, br.SignedURL, again, githubSig(br.HMACSecret, again)); code != 202 || r.Duplicate {
		t.Fatalf("new firing: %d %+v", code, r)
	}
	waitFor(t, "the new firing to act", func() bool {
		return q.ticket(t1).Status != "resolved" || len(q.tickets("alerts")) == 2
	})
}

// history lists a ticket's transactions ("<id>: <description>").
func (q *rtq) history(id int) []string {
	q.t.Helper()
	items, err := q.c.History(context.Background(), id, false)
	if err != nil {
		q.t.Fatal(err)
	}
	out := make([]string, 0, len(items))
	for _, it := range items {
		out = append(out, fmt.Sprintf("%d: %s", it.ID, it.Description))
	}
	return out
}
