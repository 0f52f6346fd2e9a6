package store

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// clock is an injected, movable time.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

// Retention deletes what it lets go, in batches, and nothing unfinished:
// not an event still in work, not a final one whose disposition has not
// run, not a dead letter younger than its retention.
func TestPruneRetention(t *testing.T) {
	dir := t.TempDir()
	clk := &clock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	ctx := context.Background()
	s, err := Open(ctx, dir, Options{InlineMax: 1024, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	n := 0
	accept := func(body string) string {
		t.Helper()
		n++
		acc, err := s.Accept(ctx, incoming("hook", "k"+strings.Repeat("x", n), body))
		if err != nil {
			t.Fatal(err)
		}
		return acc.ID
	}
	big := strings.Repeat("z", 4000) // a payload file
	kept, gone := map[string]string{}, map[string]string{}

	// 100 days ago: finished events of every final state.
	for range 5 {
		id := accept(big)
		s.Done(ctx, id)
		s.MarkFinished(ctx, id)
		gone[id] = "old done"
	}
	id := accept("{}")
	s.Ignore(ctx, id, "r", "noise")
	s.MarkFinished(ctx, id)
	gone[id] = "old ignored"
	orig := accept("{}")
	s.Done(ctx, orig)
	s.MarkFinished(ctx, orig)
	gone[orig] = "old done (original)"
	dup, _ := s.Accept(ctx, incoming("hook", "kx", "{}")) // same key as the first
	if !dup.Duplicate {
		t.Fatal("not a duplicate")
	}
	s.MarkFinished(ctx, dup.ID)
	gone[dup.ID] = "old duplicate"
	id = accept(big)
	s.Dead(ctx, id, 0, Failure{Class: "permanent", Message: "no"})
	s.MarkFinished(ctx, id)
	gone[id] = "old dead"
	id = accept("{}")
	s.Dead(ctx, id, 0, Failure{Class: "permanent", Message: "no"})
	s.MarkFinished(ctx, id)
	s.Drop(ctx, id)
	gone[id] = "old dropped"
	// Old but unfinished: never pruned.
	id = accept(big)
	s.Done(ctx, id)
	kept[id] = "old done, disposition not run"
	id = accept("{}")
	s.Dead(ctx, id, 0, Failure{Class: "permanent", Message: "no"})
	kept[id] = "old dead, disposition not run"
	kept[accept(big)] = "old accepted"
	id = accept("{}")
	s.SavePlan(ctx, id, PlanRecord{Body: []byte(`{}`), Version: 1, Steps: []NewStep{{Action: "create"}}})
	kept[id] = "old planned"

	clk.Add(60 * 24 * time.Hour)
	// 40 days ago: a dead letter (young for 90d) and a done event (old for 30d).
	id = accept(big)
	s.Dead(ctx, id, 0, Failure{Class: "transient", Message: "RT down"})
	s.MarkFinished(ctx, id)
	kept[id] = "dead letter within its retention"
	id = accept("{}")
	s.Done(ctx, id)
	s.MarkFinished(ctx, id)
	gone[id] = "done 40 days ago"

	clk.Add(39 * 24 * time.Hour)
	// Yesterday: young finished events.
	id = accept(big)
	s.Done(ctx, id)
	s.MarkFinished(ctx, id)
	kept[id] = "young done"
	clk.Add(24 * time.Hour)

	keep := map[State]time.Duration{StateDone: 30 * 24 * time.Hour, StateIgnored: 7 * 24 * time.Hour,
		StateDuplicate: 7 * 24 * time.Hour, StateDead: 90 * 24 * time.Hour, StateDropped: 30 * 24 * time.Hour}
	pruned, err := s.Prune(ctx, Retention{Keep: keep, Batch: 2})
	if err != nil {
		t.Fatal(err)
	}
	if pruned != len(gone) {
		t.Errorf("pruned %d events, want %d", pruned, len(gone))
	}
	for id, what := range gone {
		if _, err := s.Event(ctx, id); !errors.Is(err, ErrNotFound) {
			t.Errorf("%s (%s) not pruned: %v", id, what, err)
		}
	}
	for id, what := range kept {
		if _, err := s.Event(ctx, id); err != nil {
			t.Errorf("%s (%s) pruned: %v", id, what, err)
		}
		if _, err := s.Raw(ctx, id); err != nil {
			t.Errorf("%s (%s): payload gone: %v", id, what, err)
		}
	}
	files, _ := os.ReadDir(filepath.Join(dir, RawDir))
	if want := 4; len(files) != want { // old done unfinished, old accepted, young dead, young done
		t.Errorf("%d payload files left, want %d", len(files), want)
	}
	// The pruned key is free again: the source's next delivery is new.
	again, _ := s.Accept(ctx, incoming("hook", "kx", "{}"))
	if again.Duplicate {
		t.Error("a pruned event's dedup key still marks duplicates")
	}
	// A second pass finds nothing more; later the dead letter's time runs out.
	if n, err := s.Prune(ctx, Retention{Keep: keep}); err != nil || n != 0 {
		t.Errorf("second pass: %d, %v", n, err)
	}
	clk.Add(51 * 24 * time.Hour)
	if n, err := s.Prune(ctx, Retention{Keep: map[State]time.Duration{StateDead: 90 * 24 * time.Hour}}); err != nil || n != 1 {
		t.Errorf("dead letter at 91 days: pruned %d, %v", n, err)
	}
}

// A payload file no row refers to (a crash between its fsync and the
// commit) goes once it is an hour old.
func TestPruneOrphans(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	defer s.Close()
	ctx := context.Background()
	acc, _ := s.Accept(ctx, incoming("hook", "a", strings.Repeat("z", 2000)))
	orphan := filepath.Join(dir, RawDir, "deadbeef.raw")
	young := filepath.Join(dir, RawDir, "cafe.raw")
	os.WriteFile(orphan, []byte("left by a crash"), 0o600)
	os.WriteFile(young, []byte("being accepted"), 0o600)
	old := time.Now().Add(-2 * time.Hour)
	os.Chtimes(orphan, old, old)
	ev, _ := s.Event(ctx, acc.ID)
	if !ev.RawInFile {
		t.Fatal("payload inline")
	}
	if _, err := s.Prune(ctx, Retention{}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(orphan); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("old orphan kept: %v", err)
	}
	if _, err := os.Stat(young); err != nil {
		t.Errorf("young file removed: %v", err)
	}
	if readRaw(t, s, acc.ID) != strings.Repeat("z", 2000) {
		t.Error("referenced payload damaged")
	}
}

// The SQLite prune batch follows the time per event toward pruneWork,
// changing by at most a factor of two per transaction.
func TestNextPruneBatch(t *testing.T) {
	for _, c := range []struct {
		batch int
		work  time.Duration
		want  int
	}{
		{8, pruneWork, 8},
		{8, pruneWork / 4, 16},     // fast: at most doubled
		{8, 4 * pruneWork, 4},      // slow: at most halved
		{200, pruneWork / 10, 256}, // never above 256
		{1, time.Second, 1},        // never below 1
		{10, pruneWork * 10 / 8, 8},
	} {
		if got := nextPruneBatch(c.batch, c.work); got != c.want {
			t.Errorf("nextPruneBatch(%d, %v) = %d, want %d", c.batch, c.work, got, c.want)
		}
	}
}
