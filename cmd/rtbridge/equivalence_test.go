package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rtbridge/rtbridge/bridge/config"
	"github.com/rtbridge/rtbridge/bridge/daemon"
	"github.com/rtbridge/rtbridge/bridge/decode"
	"github.com/rtbridge/rtbridge/bridge/mailflow"
	"github.com/rtbridge/rtbridge/bridge/source"
	"github.com/rtbridge/rtbridge/bridge/store"
	"github.com/rtbridge/rtbridge/event"
	"github.com/rtbridge/rtbridge/internal/testenv"
	"github.com/rtbridge/rtbridge/plan"
)

// `rtbridge test` and the daemon see the same plan: every fixture, alert
// payload and corpus mail goes once through `rtbridge test` and once the
// daemon's way (accepted into a real store, decoded from it, planned by
// the planner the daemon wires, with the empty ledger of a first event),
// from a plain source and from a mailbox whose mail policy applies.
func TestTestCommandPlansAsTheDaemon(t *testing.T) {
	cfgPath := equivalenceConfig(t)
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	rs, err := daemon.CompileRules(cfg)
	if err != nil {
		t.Fatal(err)
	}
	policies, err := mailflow.Policies(cfg.IMAP)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(t.Context(), t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	daemonPlan := func(t *testing.T, path, src string, kind event.Kind) *plan.Plan {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		acc, err := st.Accept(t.Context(), source.Incoming{Source: src, Kind: kind, Raw: f, Meta: map[string]string{"path": "/test"}})
		if err != nil {
			t.Fatal(err)
		}
		se, err := st.Event(t.Context(), acc.ID)
		if err != nil {
			t.Fatal(err)
		}
		ev, err := decode.Event(decode.Stored{ID: se.ID, Source: se.Source, Kind: event.Kind(se.Kind), ReceivedAt: se.ReceivedAt, Meta: se.Meta,
			Open: func() (io.ReadCloser, error) { return st.Raw(context.WithoutCancel(t.Context()), se.ID) }})
		if err != nil {
			t.Fatalf("decode: %v", err)
		}
		p, err := mailflow.Planner(rs, policies, ev.Kind).Evaluate(ev, plan.Facts{Ledger: plan.Ledger{}})
		if err != nil {
			t.Fatalf("plan: %v", err)
		}
		return normalise(t, p, se.ID)
	}
	testPlan := func(t *testing.T, path, src string) (*plan.Plan, event.Kind) {
		var out, errb bytes.Buffer
		if code := dispatch(t.Context(), []string{"test", "--config", cfgPath, "--source", src, path}, &out, &errb); code != 0 {
			t.Fatalf("rtbridge test: exit %d: %s", code, errb.String())
		}
		var r struct {
			Kind event.Kind
			Plan *plan.Plan
		}
		if err := json.Unmarshal(out.Bytes(), &r); err != nil {
			t.Fatalf("%v in %s", err, out.String())
		}
		return normalise(t, r.Plan, "test-"+filepath.Base(path)), r.Kind
	}
	var files []string
	for _, g := range []string{"../../rules/testdata/events/*", "../../bridge/alerts/testdata/*.json", "../../bridge/mailparse/testdata/mail/*.eml"} {
		m, _ := filepath.Glob(g)
		files = append(files, m...)
	}
	if shared, ok := testenv.SharedDir(); ok {
		m, _ := filepath.Glob(filepath.Join(shared, "corpus", "mail-enmime", "*.raw"))
		files = append(files, m...)
	} else {
		t.Log("no shared corpus (../shared): fixtures and alert payloads only")
	}
	if len(files) < 10 {
		t.Fatalf("only %d event files", len(files))
	}
	for _, path := range files {
		for _, src := range []string{"support-mailbox", "support/INBOX"} {
			t.Run(filepath.Base(path)+"@"+src, func(t *testing.T) {
				want, kind := testPlan(t, path, src)
				data, _ := os.ReadFile(path)
				if k := decode.DetectKind(data); k != kind {
					t.Fatalf("kind %s, detected %s", kind, k)
				}
				got := daemonPlan(t, path, src, kind)
				w, _ := json.Marshal(want)
				g, _ := json.Marshal(got)
				if !bytes.Equal(w, g) {
					t.Fatalf("rtbridge test and the daemon disagree\ntest:   %s\ndaemon: %s", w, g)
				}
			})
		}
	}
}

// normalise drops the event id, which differs by design, from a plan.
func normalise(t *testing.T, p *plan.Plan, id string) *plan.Plan {
	t.Helper()
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	var out plan.Plan
	if err := json.Unmarshal(bytes.ReplaceAll(b, []byte(id), []byte("EVENT-ID")), &out); err != nil {
		t.Fatal(err)
	}
	return &out
}

// equivalenceConfig is the sample rules with a mailbox whose policy
// (loops, automatic mail, replies to RT, requestor defaults) applies to
// mail from support/INBOX.
func equivalenceConfig(t *testing.T) string {
	sample, err := os.ReadFile("../../rules/testdata/sample.yaml")
	if err != nil {
		t.Fatal(err)
	}
	imap := `
imap:
  - name: support
    address: imap.example.org:993
    username: rt-support@example.org
    password: not-a-real-password
    folders: [INBOX]
    rt_names: [rt.example.com]
`
	path := filepath.Join(t.TempDir(), "rtbridge.yaml")
	if err := os.WriteFile(path, []byte(strings.TrimRight(string(sample), "\n")+"\n"+imap), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
