package imapsource

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"

	"github.com/rtbridge/rtbridge/bridge/mailparse"
	"github.com/rtbridge/rtbridge/bridge/source"
	"github.com/rtbridge/rtbridge/internal/testenv"
)

// finishOne accepts one message with the given disposition and finishes it
// in state; it returns the test server and the message's UID.
func finishOne(t *testing.T, disposition string, state source.State, prepare func(d *dovecot, cfg *configIMAP)) (*dovecot, imap.UID) {
	t.Helper()
	d := newDovecot(t)
	cfg := d.config("none")
	cfg.Disposition = disposition
	if prepare != nil {
		prepare(d, &cfg)
	}
	st := openStore(t)
	src, _ := New(cfg, d.folder, st, testLogger(t))
	d.append(d.folder, mail("disp", fmt.Sprintf("disp-%d@example.org", time.Now().UnixNano())))
	run(t, src, st)
	// Every message in the folder is accepted (a \Deleted one too: only its
	// owner's expunge removes it); ours is the last one appended.
	got := st.waitFor(t, len(d.uids(d.folder, "")), 10*time.Second)
	ev, err := st.Event(context.Background(), got[len(got)-1].ID)
	if err != nil {
		t.Fatal(err)
	}
	uid := imap.UID(0)
	fmt.Sscan(ev.Origin[OriginUID], &uid)
	f := source.Final{EventID: ev.ID, State: state, Origin: ev.Origin, At: time.Now()}
	for range 2 { // idempotent: the second call finds the work done
		if err := src.Finish(context.Background(), f); err != nil {
			t.Fatalf("Finish: %v", err)
		}
	}
	return d, uid
}

func TestDispositionSeen(t *testing.T) {
	d, uid := finishOne(t, "seen", source.Done, nil)
	if !slices.Contains(d.uids(d.folder, imap.FlagSeen), uid) {
		t.Fatal("message not \\Seen after done")
	}
}

func TestDispositionMove(t *testing.T) {
	var dest string
	d, uid := finishOne(t, "", source.Done, func(d *dovecot, cfg *configIMAP) {
		dest = d.createFolder("done")
		cfg.Disposition = "move: " + dest
	})
	if slices.Contains(d.uids(d.folder, ""), uid) {
		t.Fatal("message still in the source folder")
	}
	if n := len(d.uids(dest, "")); n != 1 {
		t.Fatalf("%d messages in %s, want 1", n, dest)
	}
}

func TestDispositionDeleteOnlyThatUID(t *testing.T) {
	var other imap.UID
	d, uid := finishOne(t, "delete", source.Done, func(d *dovecot, cfg *configIMAP) {
		// Another client's message, flagged \Deleted but not expunged: a
		// bare EXPUNGE would remove it too.
		d.append(d.folder, mail("other", fmt.Sprintf("other-%d@example.org", time.Now().UnixNano())), imap.FlagDeleted)
		other = d.uids(d.folder, "")[0]
	})
	left := d.uids(d.folder, "")
	if slices.Contains(left, uid) {
		t.Fatal("message not deleted")
	}
	if !slices.Contains(left, other) {
		t.Fatalf("left %v, other %d, ours %d: "+"another client's \\Deleted message was expunged too", left, other, uid)
	}
}

func TestDeadGoesToFailureFolder(t *testing.T) {
	var failed string
	d, uid := finishOne(t, "delete", source.Dead, func(d *dovecot, cfg *configIMAP) {
		failed = d.createFolder("failed")
		cfg.FailureFolder = failed
	})
	if slices.Contains(d.uids(d.folder, ""), uid) {
		t.Fatal("dead message still in the source folder")
	}
	if n := len(d.uids(failed, "")); n != 1 {
		t.Fatalf("%d messages in the failure folder, want 1", n)
	}
}

// TestCorpusMailbox appends every corpus mail and checks each one is
// accepted byte for byte and parses.
func TestCorpusMailbox(t *testing.T) {
	shared, ok := testenv.SharedDir()
	if !ok {
		t.Skip("../shared absent: no corpus")
	}
	files, _ := filepath.Glob(filepath.Join(shared, "corpus", "mail-enmime", "*.raw"))
	d := newDovecot(t)
	cfg := d.config("none")
	cfg.BatchSize = 25
	st := openStore(t)
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		d.append(d.folder, raw)
	}
	src, _ := New(cfg, d.folder, st, testLogger(t))
	run(t, src, st)
	got := st.waitFor(t, len(files), 30*time.Second)
	dups := 0
	for _, a := range got {
		if a.Duplicate {
			dups++ // several corpus mails share a Message-ID
			continue
		}
		id := a.ID
		m, err := mailparse.Parse(func() (io.ReadCloser, error) { return st.Raw(context.Background(), id) })
		if err != nil {
			t.Fatalf("event %s: parse: %v", id, err)
		}
		for _, at := range m.Attachments {
			rc, err := at.Open()
			if err != nil {
				t.Fatalf("event %s: open %s: %v", id, at.Name, err)
			}
			rc.Close()
		}
	}
	t.Logf("%d corpus mails appended, %d accepted (%d as duplicates of an earlier Message-ID)", len(files), len(got), dups)
}
