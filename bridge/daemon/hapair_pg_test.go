package daemon

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rtbridge/rtbridge/bridge/store"
	"github.com/rtbridge/rtbridge/bridge/store/pgstore"
	"github.com/rtbridge/rtbridge/internal/pgtest"
	"github.com/rtbridge/rtbridge/internal/testenv"
)

const pairRule = `  - name: pair alerts
    when: { kind: alertmanager }
    key: 'am:{{ .GroupKey }}'
    alert:
      create:
        queue: General
        subject: '{{ get .CommonLabels "alertname" }} alerts: {{ len .Alerts.Firing }} firing'
        text: '{{ template "default.alerts" . }}'
      resolve_status: resolved
`

// amBody is an Alertmanager notification for the group alertname=name
// with one alert, firing or resolved.
func amBody(name, status string, g int) string {
	ends := "0001-01-01T00:00:00Z"
	if status == "resolved" {
		ends = time.Now().UTC().Format(time.RFC3339)
	}
	return fmt.Sprintf(`{"version":"4","status":%q,"receiver":"rt","groupKey":"{}:{alertname=\"%s\"}",
		"groupLabels":{"alertname":%q},"commonLabels":{"alertname":%q,"instance":"db1"},"commonAnnotations":{},"externalURL":"http://am",
		"alerts":[{"status":%q,"labels":{"alertname":%q,"instance":"db1"},"annotations":{"summary":"disk"},
		"startsAt":"2026-12-01T00:00:00Z","endsAt":%q,"fingerprint":"f%d"}]}`, status, name, name, name, status, name, ends, g)
}

// An Alertmanager HA pair whose members post each notification to a
// different instance, at the same moment: one ticket per group, no comment
// for the repeat, and one comment when the group resolves.
func TestAlertmanagerPairTwoInstances(t *testing.T) {
	v := testenv.Require(t, "RT_PG_URL", "RT_PG_TOKEN")
	rt := testenv.RT{URL: v["RT_PG_URL"], Token: v["RT_PG_TOKEN"]}
	dsn := pgtest.Schema(t).DSN
	var addrs []string
	for range 2 {
		dir := t.TempDir()
		addr := freePort(t)
		startBinary(t, pgConfig(t, dir, dsn, rt, addr, 2, "info", pairRule), addr, filepath.Join(dir, "daemon.log"))
		addrs = append(addrs, addr)
	}
	st, err := pgstore.Open(context.Background(), pgstore.Options{DSN: dsn})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	run := fmt.Sprintf("Pair%d", time.Now().UnixNano())
	const groups = 6
	notify := func(status string) {
		var wg sync.WaitGroup
		for g := range groups {
			body := amBody(fmt.Sprintf("%s-%d", run, g), status, g)
			for _, addr := range addrs { // both members of the pair, at once
				wg.Add(1)
				go func() {
					defer wg.Done()
					req, _ := http.NewRequest("POST", "http://"+addr+"/hooks/am", strings.NewReader(body))
					req.Header.Set("Authorization", "Bearer hook-secret")
					resp, err := http.DefaultClient.Do(req)
					if err != nil {
						t.Error(err)
						return
					}
					resp.Body.Close()
					if resp.StatusCode != http.StatusAccepted {
						t.Errorf("%s: HTTP %d", addr, resp.StatusCode)
					}
				}()
			}
		}
		wg.Wait()
	}
	settled := func(total int) {
		t.Helper()
		deadline := time.Now().Add(2 * time.Minute)
		for {
			s, err := st.Stats(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			final := 0
			for state, n := range s.ByState {
				if state.Final() {
					final += n
				}
			}
			if s.ByState[store.StateDead] > 0 {
				t.Fatalf("dead events: %v", s.ByState)
			}
			if final == total {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("events not finished: %v", s.ByState)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	c := rtClient(t, rt)
	comments := func(id int) []string {
		t.Helper()
		items, err := c.History(context.Background(), id, true)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, it := range items {
			if it.Type == "Comment" {
				out = append(out, it.Content)
			}
		}
		return out
	}
	notify("firing")
	settled(2 * groups)
	got := countTickets(t, rt, run)
	if len(got) != groups {
		t.Fatalf("%d groups have tickets, want %d: %v", len(got), groups, got)
	}
	for subj, n := range got {
		if n != 1 {
			t.Fatalf("%d tickets for %q: the pair's two deliveries raced", n, subj)
		}
	}
	res, err := c.SearchTickets(context.Background(), fmt.Sprintf("Subject LIKE '%s'", run), "id", "s")
	if err != nil {
		t.Fatal(err)
	}
	var ids []int
	for _, r := range res {
		ids = append(ids, r.ID)
	}
	for _, id := range ids {
		if c := comments(id); len(c) != 0 {
			t.Fatalf("ticket %d: comments after the repeated firing: %q", id, c)
		}
	}
	notify("resolved")
	settled(4 * groups)
	for _, id := range ids {
		if c := comments(id); len(c) != 1 {
			t.Fatalf("ticket %d: %d comments after the resolution, want 1: %q", id, len(c), c)
		}
	}
}
