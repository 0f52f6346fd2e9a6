package rules

import (
	"encoding/json"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rtbridge/rtbridge/bridge/alerts"
	"github.com/rtbridge/rtbridge/bridge/mailparse"
	"github.com/rtbridge/rtbridge/event"
	"github.com/rtbridge/rtbridge/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite the golden plans in testdata/golden")

func sampleRuleSet(t *testing.T) *RuleSet {
	t.Helper()
	data, err := os.ReadFile("testdata/sample.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return mustCompile(t, string(data))
}

func fileEvent(t *testing.T, path string) *event.Event {
	t.Helper()
	ev := &event.Event{ID: filepath.Base(path), Source: "support-mailbox", ReceivedAt: t0}
	if strings.HasSuffix(path, ".json") {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		ev.Kind = event.KindAlertmanager
		if ev.Alert, err = alerts.Parse(ev.Kind, data); err != nil {
			t.Fatal(err)
		}
		return ev
	}
	ev.Kind = event.KindMail
	m, err := mailparse.Parse(func() (io.ReadCloser, error) { return os.Open(path) })
	if err != nil {
		t.Fatal(err)
	}
	ev.Mail = m
	return ev
}

// TestGoldenPlans compares the plans of the sample rules for the fixture
// events with testdata/golden (go test -update rewrites them).
func TestGoldenPlans(t *testing.T) {
	rs := sampleRuleSet(t)
	files, _ := filepath.Glob("testdata/events/*")
	if len(files) == 0 {
		t.Fatal("no fixture events")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			p := eval(t, rs, fileEvent(t, f), nil)
			got, _ := json.MarshalIndent(p, "", "  ")
			golden := filepath.Join("testdata/golden", filepath.Base(f)+".plan.json")
			if *update {
				os.MkdirAll("testdata/golden", 0o755)
				if err := os.WriteFile(golden, append(got, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			if strings.TrimSpace(string(want)) != string(got) {
				t.Fatalf("plan differs from %s:\n%s", golden, got)
			}
		})
	}
}

// TestCorpusMails runs every mail of the shared corpus through the sample
// rules: each yields a plan, and no single-line field carries a newline.
func TestCorpusMails(t *testing.T) {
	dir, ok := testenv.SharedDir()
	if !ok {
		t.Skip("no shared corpus")
	}
	files, _ := filepath.Glob(filepath.Join(dir, "corpus/mail-enmime/*.raw"))
	rs := sampleRuleSet(t)
	for _, f := range files {
		p := eval(t, rs, fileEvent(t, f), nil)
		if len(p.Steps) == 0 && p.Ignore == nil {
			t.Errorf("%s: empty plan", f)
		}
		checkSingleLines(t, p)
	}
}
