package pgstore_test

import (
	"context"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/rtbridge/rtbridge/bridge/source"
	"github.com/rtbridge/rtbridge/bridge/store"
	"github.com/rtbridge/rtbridge/bridge/store/pgstore"
)

// A single-host SQLite store moves to PostgreSQL whole: events with their
// payloads, plans, steps and keys, the ledger, the cursors; dedup keeps
// working; a second run moves nothing twice.
func TestImportFromSQLite(t *testing.T) {
	ctx := context.Background()
	src, err := store.Open(ctx, t.TempDir(), store.Options{InlineMax: 1024})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	in := func(dedup, body string) string {
		acc, err := src.Accept(ctx, source.Incoming{Source: "hook", Kind: "json", DedupKey: dedup, Raw: strings.NewReader(body), Origin: map[string]string{"uid": "7"}})
		if err != nil {
			t.Fatal(err)
		}
		return acc.ID
	}
	big := strings.Repeat("b", 5000)
	a, b := in("a", "{}"), in("b", big)
	dup := in("a", "again")
	if err := src.SavePlan(ctx, a, store.PlanRecord{Version: 1, Body: []byte(`{"p":1}`), Key: "am:g", Keys: []string{"msgid:x"}, Rule: "r",
		Steps: []store.NewStep{{Action: "create", Key: "am:g"}, {Action: "comment", Key: "am:g"}}}); err != nil {
		t.Fatal(err)
	}
	src.StepStarted(ctx, a, 0, time.Minute, a+"/1")
	src.StepDone(ctx, a, 0, store.Result{Ticket: 42, Txn: 9}, []store.LedgerEntry{{Key: "am:g", Ticket: 42, Status: "new"}})
	src.StepStarted(ctx, a, 1, time.Minute, "")
	src.Dead(ctx, a, 1, store.Failure{Class: "permanent", Message: "no right"})
	src.SetCursor(ctx, "imap", "INBOX", "17:4")

	db := freshDB(t)
	dst := db.open(t, pgstore.Options{InlineMax: 1024})
	m, err := dst.ImportFrom(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	if m.Events != 3 || m.Skipped != 0 || m.Ledger != 1 || m.Cursors != 1 {
		t.Fatalf("moved %+v", m)
	}
	for _, id := range []string{a, b, dup} {
		want, _ := src.Event(ctx, id)
		got, err := dst.Event(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("event %s moved as\n%+v\nwant\n%+v", id, got, want)
		}
		wantRaw, gotRaw := raw(t, src, id), raw(t, dst, id)
		if gotRaw != wantRaw {
			t.Fatalf("payload of %s: %d bytes, want %d", id, len(gotRaw), len(wantRaw))
		}
	}
	if keys, _ := dst.Keys(ctx, a); !reflect.DeepEqual(keys, []string{"am:g", "msgid:x"}) {
		t.Fatalf("keys %v", keys)
	}
	if le, ok, _ := dst.Ledger(ctx, "am:g"); !ok || le.Ticket != 42 || le.EventID != a {
		t.Fatalf("ledger %+v", le)
	}
	if v, _ := dst.Cursor(ctx, "imap", "INBOX"); v != "17:4" {
		t.Fatalf("cursor %q", v)
	}
	acc, err := dst.Accept(ctx, source.Incoming{Source: "hook", Kind: "json", DedupKey: "b", Raw: strings.NewReader("{}")})
	if err != nil || !acc.Duplicate || acc.DuplicateOf != b {
		t.Fatalf("dedup after the move: %+v %v", acc, err)
	}
	if m, err := dst.ImportFrom(ctx, src); err != nil || m.Events != 0 || m.Skipped != 3 {
		t.Fatalf("second run %+v %v", m, err)
	}
}

func raw(t *testing.T, s interface {
	Raw(context.Context, string) (io.ReadCloser, error)
}, id string) string {
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
