package executor

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rtbridge/rtbridge/bridge/metrics"
	"github.com/rtbridge/rtbridge/bridge/source"
	"github.com/rtbridge/rtbridge/bridge/store"
	"github.com/rtbridge/rtbridge/event"
	"github.com/rtbridge/rtbridge/plan"
	"github.com/rtbridge/rtbridge/rtapi"
)

// ledgerOnceStore fails the first ledger lookup: the event is planned again
// later, decoded a second time.
type ledgerOnceStore struct {
	countingStore
	failed atomic.Bool
}

func (s *ledgerOnceStore) Ledger(ctx context.Context, key string) (store.LedgerEntry, bool, error) {
	if !s.failed.Swap(true) {
		return store.LedgerEntry{}, false, errors.New("database is locked")
	}
	return s.countingStore.Ledger(ctx, key)
}

// A mail over the parser's attachment cap is counted once in
// rtbridge_mail_capped_total{cap="attachments"}, although it is decoded on
// every planning attempt.
func TestCappedMailCountedOnce(t *testing.T) {
	h := newHarness(t)
	h.setRules(compile(t, "- name: quiet\n  key: 'k:{{ .Source }}'\n  do: [ { ignore: 'nothing to do' } ]\n"))
	var b strings.Builder
	b.WriteString("From: a@example.com\r\nSubject: many\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n")
	for i := range 150 { // the default cap is 100 attachments
		fmt.Fprintf(&b, "--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=f%d.bin\r\n\r\nx\r\n", i)
	}
	b.WriteString("--b--\r\n")
	acc, err := h.st.Accept(context.Background(), source.Incoming{Source: "box", Kind: event.KindMail, Raw: bytes.NewReader([]byte(b.String()))})
	if err != nil {
		t.Fatal(err)
	}
	rt, err := rtapi.New(rtapi.Config{URL: "http://127.0.0.1:9/", Auth: rtapi.NewTokenAuth("unused")})
	if err != nil {
		t.Fatal(err)
	}
	m := metrics.New()
	st := &ledgerOnceStore{countingStore: countingStore{Store: h.st}}
	x, err := New(Options{Store: st, RT: rt, Rules: func(event.Kind) plan.Planner { return h.rules }, Metrics: m,
		Poll: 20 * time.Millisecond, Backoff: Backoff{Base: 20 * time.Millisecond, Max: 50 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	h.runUntil(x, acc.ID)
	if e := h.event(acc.ID); e.State != "ignored" {
		t.Fatalf("event %s %s", e.State, e.Reason)
	}
	if n := st.opens.Load(); n < 2 {
		t.Fatalf("payload decoded %d times; the test needs a second planning", n)
	}
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body := rec.Body.String()
	for _, want := range []string{`rtbridge_mail_capped_total{cap="attachments"} 1`, `rtbridge_mail_capped_total{cap="parts"} 0`} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s:\n%s", want, grepLines(body, "rtbridge_mail_capped"))
		}
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
