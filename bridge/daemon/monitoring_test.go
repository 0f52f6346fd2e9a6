package daemon

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rtbridge/rtbridge/internal/testenv"
	"github.com/rtbridge/rtbridge/monitoring"
)

// TestMonitoringNamesExportedMetrics: every metric the shipped alert rules
// and the dashboard use is one a running daemon exports, so a renamed
// metric cannot leave an alert that never fires.
func TestMonitoringNamesExportedMetrics(t *testing.T) {
	rt := testenv.RequireRT(t)
	t.Parallel()
	dir := t.TempDir()
	r := start(t, testConfig(t, dir, rt.URL, rt.Token, ""))
	marker := fmt.Sprintf("mon-%d", time.Now().UnixNano())
	if code, body := r.post(t, fmt.Sprintf(`{"service":"mon","version":"1","marker":%q}`, marker)); code != 202 {
		t.Fatalf("post: %d %s", code, body)
	}
	waitTickets(t, rtClient(t, rt), "deploy mon "+marker, 1, 30*time.Second)

	var names []string
	for _, f := range []string{"rtbridge.rules.yml", "rtbridge.dashboard.json"} {
		b, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "monitoring", f))
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, monitoring.MetricNames(b)...)
	}
	if len(names) < 10 {
		t.Fatalf("only %d metric names found in the monitoring files: %v", len(names), names)
	}
	var missing []string
	deadline := time.Now().Add(20 * time.Second) // gauges fill in on the daemon's 5 s tick
	for {
		_, m := r.get(t, "/metrics")
		missing = missing[:0]
		for _, n := range names {
			if !strings.Contains(m, "\n"+n+"{") && !strings.Contains(m, "\n"+n+" ") {
				missing = append(missing, n)
			}
		}
		if len(missing) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Second)
	}
	if len(missing) > 0 {
		t.Errorf("the monitoring files name metrics the daemon does not export: %v", missing)
	}
}
