package daemon

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rtbridge/rtbridge/bridge/source"
	"github.com/rtbridge/rtbridge/bridge/store"
	"github.com/rtbridge/rtbridge/internal/testenv"
)

// The daemon applies the default retention at start to a store written
// months ago (an injected clock): old finished events go, a dead letter
// within its 90 days and an event still waiting stay, and the new event
// that arrives meanwhile becomes a ticket.
func TestDaemonRetention(t *testing.T) {
	rt := testenv.RequireRT(t)
	t.Parallel()
	dir := t.TempDir()
	cfgPath := testConfig(t, dir, rt.URL, rt.Token, "")
	ctx := context.Background()
	now := time.Now()
	at := now.Add(-100 * 24 * time.Hour)
	st, err := store.Open(ctx, filepath.Join(dir, "state"), store.Options{InlineMax: 1024, Now: func() time.Time { return at }})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	accept := func() string {
		n++
		acc, err := st.Accept(ctx, source.Incoming{Source: "deploys", Kind: "json", DedupKey: fmt.Sprint("old-", n),
			Raw: strings.NewReader(`{"service":"old","pad":"` + strings.Repeat("p", 2000) + `"}`)})
		if err != nil {
			t.Fatal(err)
		}
		return acc.ID
	}
	var gone, kept []string
	for range 3 {
		id := accept()
		st.Done(ctx, id)
		st.MarkFinished(ctx, id)
		gone = append(gone, id)
	}
	id := accept()
	st.Dead(ctx, id, -1, store.Failure{Class: "permanent", Message: "old"})
	st.MarkFinished(ctx, id)
	gone = append(gone, id)
	waiting := accept()
	st.Defer(ctx, waiting, now.Add(24*time.Hour)) // not due during the test
	kept = append(kept, waiting)
	at = now.Add(-10 * 24 * time.Hour)
	id = accept()
	st.Dead(ctx, id, -1, store.Failure{Class: "permanent", Message: "recent"})
	st.MarkFinished(ctx, id)
	kept = append(kept, id)
	before, _ := st.SizeBytes(ctx)
	st.Close()

	r := start(t, cfgPath)
	marker := fmt.Sprintf("retention-%d", time.Now().UnixNano())
	if code, body := r.post(t, fmt.Sprintf(`{"service":"api","version":"1","marker":%q}`, marker)); code != 202 {
		t.Fatalf("post: %d %s", code, body)
	}
	waitFor(t, "a prune pass", r, func() bool { return strings.Contains(r.log.String(), "retention: deleted") })
	waitTickets(t, rtClient(t, rt), "deploy api "+marker, 1, 30*time.Second)

	ro, err := store.OpenReadOnly(ctx, filepath.Join(dir, "state"))
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	for _, id := range gone {
		if _, err := ro.Event(ctx, id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s not pruned: %v", id, err)
		}
	}
	for _, id := range kept {
		if _, err := ro.Event(ctx, id); err != nil {
			t.Errorf("%s pruned: %v", id, err)
		}
	}
	// RT has the ticket; the event's "done" may be a moment behind.
	var s Status
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if s, err = ReadStatus(ctx, ro); err != nil {
			t.Fatal(err)
		}
		if s.Queue[store.StateDone] == 1 || time.Now().After(deadline) {
			break
		}
	}
	if s.StoreBytes <= 0 || s.Queue[store.StateDead] != 1 || s.Queue[store.StateDone] != 1 {
		t.Errorf("status: %d bytes (before prune %d), queue %v", s.StoreBytes, before, s.Queue)
	}
	waitFor(t, "queue and size metrics", r, func() bool {
		_, m := r.get(t, "/metrics")
		return strings.Contains(m, `rtbridge_queue_events{state="dead"} 1`) && strings.Contains(m, `rtbridge_queue_events{state="done"} 1`) &&
			strings.Contains(m, "rtbridge_store_bytes ")
	})
}
