package metrics

import "testing"

// counterValue reads a counter from the registry as a scrape would.
func counterValue(t *testing.T, m *Metrics, name, label, value string) (float64, bool) {
	t.Helper()
	fams, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
		for _, s := range f.GetMetric() {
			for _, l := range s.GetLabel() {
				if l.GetName() == label && l.GetValue() == value {
					return s.GetCounter().GetValue(), true
				}
			}
		}
	}
	return 0, false
}

func TestStormDiverted(t *testing.T) {
	m := New()
	if _, ok := counterValue(t, m, "rtbridge_alert_storm_diverted_total", "rule", "ops"); ok {
		t.Fatal("series exists before any diversion")
	}
	m.StormDiverted("ops", 2)
	m.StormDiverted("ops", 1)
	m.StormDiverted("db", 1)
	if v, _ := counterValue(t, m, "rtbridge_alert_storm_diverted_total", "rule", "ops"); v != 3 {
		t.Errorf("ops: %v, want 3", v)
	}
	if v, _ := counterValue(t, m, "rtbridge_alert_storm_diverted_total", "rule", "db"); v != 1 {
		t.Errorf("db: %v, want 1", v)
	}
}
