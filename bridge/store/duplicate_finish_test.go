package store

import (
	"context"
	"slices"
	"testing"
)

// A duplicate's disposition waits for the event it duplicates: it is not
// listed as unfinished while that one still has work, and is once it is
// final (done or dead alike).
func TestUnfinishedDuplicateWaitsForOriginal(t *testing.T) {
	ctx := context.Background()
	s := open(t, t.TempDir())
	ids := func() []string {
		evs, err := s.Unfinished(ctx, 100)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range evs {
			out = append(out, e.ID)
		}
		return out
	}
	for _, end := range []string{"done", "dead"} {
		a, err := s.Accept(ctx, incoming("imap/INBOX", "<m-"+end+"@x>", "first"))
		if err != nil {
			t.Fatal(err)
		}
		b, err := s.Accept(ctx, incoming("imap/INBOX", "<m-"+end+"@x>", "again"))
		if err != nil || b.DuplicateOf != a.ID {
			t.Fatalf("second accept: %+v, %v", b, err)
		}
		if got := ids(); slices.Contains(got, b.ID) {
			t.Fatalf("%s: duplicate listed while its original is pending: %v", end, got)
		}
		if end == "done" {
			err = s.Done(ctx, a.ID)
		} else {
			err = s.Dead(ctx, a.ID, -1, Failure{Class: "permanent", Message: "no such queue"})
		}
		if err != nil {
			t.Fatal(err)
		}
		if got := ids(); !slices.Contains(got, a.ID) || !slices.Contains(got, b.ID) {
			t.Fatalf("%s: original final, unfinished %v, want both %s and %s", end, got, a.ID, b.ID)
		}
		for _, id := range []string{a.ID, b.ID} {
			if err := s.MarkFinished(ctx, id); err != nil {
				t.Fatal(err)
			}
		}
	}
}
