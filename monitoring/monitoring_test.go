// Package monitoring holds no code: it ships the Prometheus rules and the
// Grafana dashboard for rtbridge itself, and tests them. The test that each
// metric they name is one a running daemon exports is in bridge/daemon
// (TestMonitoringNamesExportedMetrics).
package monitoring

import (
	"encoding/json"
	"os"
	"os/exec"
	"testing"

	"github.com/rtbridge/rtbridge/internal/testenv"
)

// promtool is Debian's (package prometheus, which `make test` installs).
func promtool(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("promtool")
	if err != nil {
		if testenv.Integration() {
			t.Fatal("promtool not found; `make test` installs it (Debian package prometheus)")
		}
		t.Skip("promtool not found; run `make test`, which installs it")
	}
	return p
}

func TestRulesCheckAndUnitTests(t *testing.T) {
	p := promtool(t)
	for _, args := range [][]string{
		{"check", "rules", "rtbridge.rules.yml"},
		{"test", "rules", "rtbridge.rules.test.yml"},
	} {
		out, err := exec.Command(p, args...).CombinedOutput()
		if err != nil {
			t.Errorf("promtool %v: %v\n%s", args, err, out)
		}
	}
}

// Every alert has at least one unit test that expects it to fire.
func TestEveryAlertHasAUnitTest(t *testing.T) {
	rules, err := os.ReadFile("rtbridge.rules.yml")
	if err != nil {
		t.Fatal(err)
	}
	tests, err := os.ReadFile("rtbridge.rules.test.yml")
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range AlertNames(rules) {
		if !containsLine(tests, "alertname: "+a) {
			t.Errorf("alert %s has no promtool unit test", a)
		}
	}
}

func TestDashboardIsJSON(t *testing.T) {
	b, err := os.ReadFile("rtbridge.dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	if len(d.Panels) == 0 {
		t.Fatal("dashboard has no panels")
	}
	for _, p := range d.Panels {
		if len(p.Targets) == 0 || p.Targets[0].Expr == "" {
			t.Errorf("panel %q has no query", p.Title)
		}
	}
}
