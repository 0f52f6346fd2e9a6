package storetest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rtbridge/rtbridge/bridge/source"
	"github.com/rtbridge/rtbridge/bridge/store"
)

func incoming(src, dedup, body string) source.Incoming {
	return source.Incoming{Source: src, Kind: "json", DedupKey: dedup, Raw: strings.NewReader(body),
		Origin: map[string]string{"path": "/hook"}, Meta: map[string]string{"ct": "application/json"}}
}

func readRaw(t *testing.T, s Store, id string) string {
	t.Helper()
	rc, err := s.Raw(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func testAcceptDurableAcrossReopen(t *testing.T, db DB) {
	s := db.Open(t)
	ctx := context.Background()
	small, err := s.Accept(ctx, incoming("hook", "d1", `{"a":1}`))
	if err != nil {
		t.Fatal(err)
	}
	bigBody := strings.Repeat("x", 5000)
	big, err := s.Accept(ctx, incoming("hook", "d2", bigBody))
	if err != nil {
		t.Fatal(err)
	}
	if !(small.ID < big.ID) {
		t.Fatalf("ids not in acceptance order: %s then %s", small.ID, big.ID)
	}
	s.Close()

	s = db.Open(t)
	defer s.Close()
	e, err := s.Event(ctx, small.ID)
	if err != nil {
		t.Fatal(err)
	}
	if e.State != store.StateAccepted || e.Source != "hook" || e.Kind != "json" || e.Origin["path"] != "/hook" || e.Meta["ct"] != "application/json" || e.RawInFile {
		t.Fatalf("reopened event: %+v", e)
	}
	if got := readRaw(t, s, small.ID); got != `{"a":1}` {
		t.Fatalf("small raw %q", got)
	}
	e, err = s.Event(ctx, big.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !e.RawInFile || e.RawSize != 5000 {
		t.Fatalf("large payload: apart %v, size %d", e.RawInFile, e.RawSize)
	}
	if got := readRaw(t, s, big.ID); got != bigBody {
		t.Fatalf("large raw differs (%d bytes)", len(got))
	}
	if n := db.Apart(t); n != 1 {
		t.Fatalf("%d payloads stored apart, want 1", n)
	}
	if _, err := s.Event(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown id: %v", err)
	}
}

// A payload that fails while streaming leaves nothing behind.
func testAcceptReadErrorLeavesNothing(t *testing.T, db DB) {
	s := db.Open(t)
	defer s.Close()
	in := incoming("hook", "x", "")
	in.Raw = io.MultiReader(strings.NewReader(strings.Repeat("y", 4000)), errReader{})
	if _, err := s.Accept(context.Background(), in); err == nil {
		t.Fatal("accept of a failing reader succeeded")
	}
	st, _ := s.Stats(context.Background())
	if n := db.Apart(t); n != 0 || st.ByState[store.StateAccepted] != 0 {
		t.Fatalf("left %d payloads, %d events", n, st.ByState[store.StateAccepted])
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("connection reset") }

// An Accept racing Close returns (accepted, or ErrClosed) instead of
// waiting forever.
func testAcceptRacingCloseReturns(t *testing.T, db DB) {
	for i := range 50 {
		s := db.Open(t)
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := s.Accept(context.Background(), incoming("hook", "", "{}"))
				errs <- err
			}()
		}
		s.Close()
		finished := make(chan struct{})
		go func() { wg.Wait(); close(finished) }()
		select {
		case <-finished:
		case <-time.After(10 * time.Second):
			t.Fatalf("round %d: Accept still waiting 10s after Close", i)
		}
		close(errs)
		for err := range errs {
			if err != nil && !errors.Is(err, store.ErrClosed) {
				t.Fatalf("round %d: %v", i, err)
			}
		}
	}
}

func testDuplicate(t *testing.T, db DB) {
	s := db.Open(t)
	defer s.Close()
	ctx := context.Background()
	a, err := s.Accept(ctx, incoming("hook", "same", "1"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.Accept(ctx, incoming("hook", "same", "2"))
	if err != nil {
		t.Fatal(err)
	}
	if a.Duplicate || !b.Duplicate || b.DuplicateOf != a.ID {
		t.Fatalf("first %+v second %+v", a, b)
	}
	// Another source, or no key: not a duplicate.
	c, _ := s.Accept(ctx, incoming("other", "same", "3"))
	d, _ := s.Accept(ctx, incoming("hook", "", "4"))
	e, _ := s.Accept(ctx, incoming("hook", "", "5"))
	if c.Duplicate || d.Duplicate || e.Duplicate {
		t.Fatal("distinct events reported as duplicates")
	}
	ev, _ := s.Event(ctx, b.ID)
	if ev.State != store.StateDuplicate || ev.DuplicateOf != a.ID {
		t.Fatalf("duplicate stored as %s of %q", ev.State, ev.DuplicateOf)
	}
	work, _ := s.Runnable(ctx, time.Now().Add(time.Second), 100)
	for _, w := range work {
		if w.ID == b.ID {
			t.Fatal("a duplicate is runnable")
		}
	}
	if len(work) != 4 {
		t.Fatalf("%d runnable, want 4", len(work))
	}
}

// Many concurrent Accepts, through two instances: every one gets a
// distinct, committed id, and one dedup key yields exactly one original.
func testConcurrentAccepts(t *testing.T, db DB) {
	s, s2 := db.Open(t), db.Open(t)
	ctx := context.Background()
	const n = 400
	ids := make([]source.Accepted, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dedup := fmt.Sprintf("k%d", i)
			if i%10 == 0 {
				dedup = "shared"
			}
			body := fmt.Sprintf("body %d", i)
			if i%50 == 0 {
				body = strings.Repeat("L", 3000) + body // some are stored apart
			}
			via := s
			if i%2 == 1 {
				via = s2
			}
			acc, err := via.Accept(ctx, incoming("hook", dedup, body))
			if err != nil {
				errs <- err
				return
			}
			ids[i] = acc
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	s.Close()
	s2.Close()

	s = db.Open(t)
	defer s.Close()
	seen := map[string]bool{}
	originals := 0
	for i, a := range ids {
		if seen[a.ID] {
			t.Fatalf("id %s given twice", a.ID)
		}
		seen[a.ID] = true
		if i%10 == 0 && !a.Duplicate {
			originals++
		}
		if got := readRaw(t, s, a.ID); !strings.HasSuffix(got, fmt.Sprintf("body %d", i)) {
			t.Fatalf("event %d raw %q", i, got)
		}
	}
	if originals != 1 {
		t.Fatalf("%d originals for one dedup key, want 1", originals)
	}
	st, _ := s.Stats(ctx)
	if st.ByState[store.StateAccepted] != n-n/10+1 || st.ByState[store.StateDuplicate] != n/10-1 {
		t.Fatalf("states %v", st.ByState)
	}
}

// An empty payload, or none, is stored as empty, not as a pruned one.
func testEmptyPayload(t *testing.T, db DB) {
	s := db.Open(t)
	defer s.Close()
	for _, in := range []source.Incoming{incoming("hook", "", ""), {Source: "hook", Kind: "json"}} {
		acc, err := s.Accept(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		if got := readRaw(t, s, acc.ID); got != "" {
			t.Fatalf("raw %q", got)
		}
	}
}

func testWakeOnAccept(t *testing.T, db DB) {
	s := db.Open(t)
	defer s.Close()
	if _, err := s.Accept(context.Background(), incoming("hook", "", "x")); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.Wake():
	default:
		t.Fatal("no wake after a commit")
	}
}

func testCursors(t *testing.T, db DB) {
	s := db.Open(t)
	ctx := context.Background()
	var c source.Cursors = s
	if v, err := c.Cursor(ctx, "mbox", "INBOX"); err != nil || v != "" {
		t.Fatalf("unset cursor %q %v", v, err)
	}
	if err := c.SetCursor(ctx, "mbox", "INBOX", "17:4"); err != nil {
		t.Fatal(err)
	}
	if err := c.SetCursor(ctx, "mbox", "INBOX", "17:9"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = db.Open(t)
	defer s.Close()
	if v, _ := s.Cursor(ctx, "mbox", "INBOX"); v != "17:9" {
		t.Fatalf("cursor after reopen %q", v)
	}
	all, _ := s.Cursors(ctx)
	if all["mbox"]["INBOX"] != "17:9" {
		t.Fatalf("cursors %v", all)
	}
}
