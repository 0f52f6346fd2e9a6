package e2e_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rtbridge/rtbridge/internal/testenv"
)

// BenchmarkAlertBurst: 2 000 alerts in 200 groups reach the daemon within
// seconds from an HA pair (every notification twice), while RT answers
// each request only after rtDelay. Each group is notified three times
// (fire, an identical repeat, a change), i.e. 1 200 deliveries. It reports
// the accept latency (p50, p99) and the RT requests the bridge made against
// the naive one-call-per-notification model of jiralert, as a ratio.
//
//	RTBRIDGE_INTEGRATION=1 go test -run '^$' -bench AlertBurst -benchtime 1x ./bridge/alerts/e2e
func BenchmarkAlertBurst(b *testing.B) {
	const groups, perGroup, rtDelay = 200, 10, 20 * time.Millisecond
	rt := testenv.RequireRT(b)
	for range b.N {
		name := fmt.Sprintf("BURST%d", time.Now().UnixNano())
		rtc := newCounter(b, rt.URL, rtDelay)
		br := startBridge(b, rtc.URL, rt.Token, fmt.Sprintf(`rules:
  - name: burst
    when: { kind: alertmanager, labels: [ 'alertname="%[1]s"' ] }
    key: 'am:{{ .GroupKey }}'
    alert:
      create: { queue: General, subject: '%[1]s {{ .GroupLabels.group }}', text: '{{ len .Alerts.Firing }} firing' }
      resolve_status: resolved
`, name), 4)
		tok, err := os.ReadFile(br.TokenFile)
		if err != nil {
			b.Fatal(err)
		}
		var bodies [][]byte
		for phase := range 3 {
			for g := range groups {
				body := burstNotification(name, g, perGroup, phase == 2)
				bodies = append(bodies, body, body) // the HA peer's copy
			}
		}
		lat := make([]time.Duration, len(bodies))
		deliver := func(i int) {
			req, _ := http.NewRequest(http.MethodPost, br.HookURL, bytes.NewReader(bodies[i]))
			req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(tok)))
			req.Header.Set("Content-Type", "application/json")
			t0 := time.Now()
			resp, err := http.DefaultClient.Do(req)
			lat[i] = time.Since(t0)
			if err != nil || resp.StatusCode/100 != 2 {
				b.Errorf("delivery %d: %v %v", i, err, resp)
			}
			if resp != nil {
				resp.Body.Close()
			}
		}
		b.ResetTimer()
		start := time.Now()
		// Phases in order, as Alertmanager sends them group_interval apart
		// (each group's fire before its repeat and change); the deliveries
		// of a phase go concurrently, 16 at a time.
		for phase := range 3 {
			var wg sync.WaitGroup
			work := make(chan int)
			for range 16 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range work {
						deliver(i)
					}
				}()
			}
			for i := phase * 2 * groups; i < (phase+1)*2*groups; i++ {
				work <- i
			}
			close(work)
			wg.Wait()
		}
		posted := time.Since(start)
		// Drained: no RT request for five seconds (a slow RT create can
		// take more than a second).
		for last := rtc.calls.Load(); ; {
			time.Sleep(5 * time.Second)
			if n := rtc.calls.Load(); n == last {
				break
			} else {
				last = n
			}
		}
		b.StopTimer()
		slices.Sort(lat)
		calls := float64(rtc.calls.Load())
		naive := float64(len(bodies))
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "accept-p50-ms")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "accept-p99-ms")
		b.ReportMetric(posted.Seconds(), "post-s")
		b.ReportMetric(calls, "rt-calls")
		b.ReportMetric(naive, "naive-calls")
		b.ReportMetric(naive/calls, "naive/bridge")
		b.Logf("%d deliveries posted in %s; RT requests %d (writes %d) vs %d naive", len(bodies), posted.Round(time.Millisecond), int(calls), rtc.writes.Load(), int(naive))
	}
}

// burstNotification is an Alertmanager v4 payload for group g: perGroup
// firing alerts, or with changed set the first one resolved.
func burstNotification(name string, g, perGroup int, changed bool) []byte {
	type alert struct {
		Status      string            `json:"status"`
		Labels      map[string]string `json:"labels"`
		Annotations map[string]string `json:"annotations"`
		StartsAt    time.Time         `json:"startsAt"`
		EndsAt      time.Time         `json:"endsAt"`
		Fingerprint string            `json:"fingerprint"`
	}
	group := fmt.Sprintf("g%03d", g)
	starts := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var as []alert
	for i := range perGroup {
		a := alert{Status: "firing", StartsAt: starts, Fingerprint: fmt.Sprintf("%s%03d%02d", "f", g, i),
			Labels:      map[string]string{"alertname": name, "group": group, "instance": fmt.Sprintf("host%02d", i)},
			Annotations: map[string]string{"summary": "disk full"}}
		if changed && i == 0 {
			a.Status, a.EndsAt = "resolved", starts.Add(time.Hour)
		}
		as = append(as, a)
	}
	body, _ := json.Marshal(map[string]any{
		"version": "4", "status": "firing", "receiver": "rt",
		"groupKey":     fmt.Sprintf(`{}:{alertname="%s", group="%s"}`, name, group),
		"groupLabels":  map[string]string{"alertname": name, "group": group},
		"commonLabels": map[string]string{"alertname": name, "group": group}, "commonAnnotations": map[string]string{"summary": "disk full"},
		"externalURL": "http://am.example:9093", "truncatedAlerts": 0, "alerts": as,
	})
	return body
}
