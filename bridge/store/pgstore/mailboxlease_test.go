package pgstore_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/rtbridge/rtbridge/bridge/source"
	"github.com/rtbridge/rtbridge/bridge/store/pgstore"
)

// The final events of a source whose mailbox lease (named after the
// source) another instance holds are listed for disposition to that
// instance only; once the lease is released, to anyone.
func TestUnfinishedLeftToMailboxHolder(t *testing.T) {
	db := freshDB(t)
	ctx := context.Background()
	a := db.open(t, pgstore.Options{Instance: "a", LeaseTTL: 3 * time.Second})
	b := db.open(t, pgstore.Options{Instance: "b", LeaseTTL: 3 * time.Second})
	const src = "acct/INBOX"
	acc, err := a.Accept(ctx, source.Incoming{Source: src, Kind: "mail", DedupKey: "m1", Raw: strings.NewReader("Subject: x\r\n\r\nx\r\n")})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Ignore(ctx, acc.ID, "r", "test"); err != nil {
		t.Fatal(err)
	}
	if ok, err := a.AcquireLease(ctx, src, time.Minute); err != nil || !ok {
		t.Fatalf("lease: %v %v", ok, err)
	}
	if un, err := b.Unfinished(ctx, 10); err != nil || len(un) != 0 {
		t.Fatalf("b lists %d events of a's mailbox (%v)", len(un), err)
	}
	if un, err := a.Unfinished(ctx, 10); err != nil || len(un) != 1 || un[0].ID != acc.ID {
		t.Fatalf("the holder lists %d events (%v), want its one", len(un), err)
	}
	if err := a.Release(ctx, acc.ID); err != nil { // the event's own lease
		t.Fatal(err)
	}
	if err := a.ReleaseLease(ctx, src); err != nil {
		t.Fatal(err)
	}
	if un, err := b.Unfinished(ctx, 10); err != nil || len(un) != 1 {
		t.Fatalf("after the release b lists %d events (%v), want 1", len(un), err)
	}
}
