package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/rtbridge/rtbridge/internal/doccheck"
	"github.com/rtbridge/rtbridge/monitoring"
)

// TestDocsMetricNames: every rtbridge_* metric the manual names is one the
// code defines (bridge/metrics), and docs/metrics.md's table lists every
// metric it defines. (The rules and the dashboard are held to a running
// daemon's /metrics by TestMonitoringNamesExportedMetrics in bridge/daemon.)
func TestDocsMetricNames(t *testing.T) {
	root, docs := manual(t)
	lits, err := doccheck.Literals(filepath.Join(root, "bridge", "metrics"))
	if err != nil {
		t.Fatal(err)
	}
	defined := map[string]bool{"rtbridge_build_info": true} // version.NewCollector("rtbridge")
	for _, l := range lits {
		if regexp.MustCompile(`^rtbridge_[a-z0-9_]+$`).MatchString(l) {
			defined[l] = true
		}
	}
	if len(defined) < 20 {
		t.Fatalf("found only %d metrics in bridge/metrics", len(defined))
	}
	for _, d := range docs {
		b, err := os.ReadFile(filepath.Join(root, d.Path))
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range monitoring.MetricNames(b) {
			base := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(n, "_bucket"), "_count"), "_sum")
			if !defined[n] && !defined[base] {
				t.Errorf("%s names %s, which the code does not define", d.Path, n)
			}
		}
	}
	listed := map[string]bool{}
	for _, d := range docs {
		if d.Path != filepath.Join("docs", "metrics.md") {
			continue
		}
		for _, r := range d.Rows {
			if r.Header[0] == "metric" {
				for _, c := range doccheck.CodeIn(r.Cells[0]) {
					listed[c] = true
				}
			}
		}
	}
	for n := range defined {
		if !listed[n] {
			t.Errorf("docs/metrics.md's table does not list %s", n)
		}
	}
}
