package mailflow_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rtbridge/rtbridge/bridge/store"
	"github.com/rtbridge/rtbridge/internal/testenv"
	"github.com/rtbridge/rtbridge/rtapi"
)

// TestCorpusMailbox puts the 85 mails of ../shared/corpus/mail-enmime
// (broken or tricky real-world mail) into one folder and lets the real
// daemon feed them to the real RT. Every mail must be accounted for: a
// ticket (checked in RT, attachments byte-identical through /content), an
// ignore with its reason, a dead letter with its reason, or a recorded
// duplicate (the corpus reuses Message-IDs). Zero silent drops.
func TestCorpusMailbox(t *testing.T) {
	shared, ok := testenv.SharedDir()
	if !ok {
		t.Skip("../shared absent (fresh clone): the corpus lives in shared/corpus/mail-enmime")
	}
	files, _ := filepath.Glob(filepath.Join(shared, "corpus", "mail-enmime", "*.raw"))
	if len(files) == 0 {
		t.Skip("no corpus files")
	}
	rt := testenv.RequireRT(t)
	box := newMailbox(t)
	inbox, failed := box.folder("in"), box.folder("Failed")
	src := "mf/" + inbox
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		box.append(inbox, raw)
	}
	br := startBridge(t, rt.URL, rt.Token, box.imapYAML("mf", []string{inbox},
		"    rt_names: [example.com]\n    auto_reply: allow\n    failure_folder: "+failed+"\n"),
		"rules:\n"+createRule(src))
	c := rtClient(t, rt)
	ctx := context.Background()

	evs := br.waitFinal(src, len(files), 3*time.Minute)
	count := map[store.State]int{}
	checked := 0
	for _, e := range evs {
		count[e.State]++
		switch e.State {
		case store.StateDone:
			id := ticketOf(t, e)
			atts, err := c.Attachments(ctx, id)
			if err != nil {
				t.Fatalf("ticket %d: %v", id, err)
			}
			if len(atts) == 0 {
				// A mail without body or attachments makes a ticket with
				// no message; it must at least exist.
				if _, err := c.Ticket(ctx, id); err != nil {
					t.Errorf("event %s: ticket %d: %v", e.ID, id, err)
				}
				continue
			}
			want := partSums(t, []byte(readRaw(t, br, e.ID)))
			byName, size := map[string]int{}, map[string]string{}
			for _, a := range atts {
				byName[a.Name], size[a.Name] = a.ID, a.Size
			}
			for name, s := range want {
				aid, ok := byName[name]
				if !ok {
					t.Errorf("event %s ticket %d: RT lacks attachment %q (has %v)", e.ID, id, name, names(atts))
					continue
				}
				if s == sum(nil) {
					// RT answers /content of an empty part with no status
					// line at all; its listed size must say empty.
					if size[name] != "0b" {
						t.Errorf("event %s ticket %d: %q is empty in the mail, %s in RT", e.ID, id, name, size[name])
					}
					checked++
					continue
				}
				if got, _ := rtContent(t, c, id, aid); got != s {
					t.Errorf("event %s ticket %d: %q differs through RT's /content", e.ID, id, name)
				}
				checked++
			}
		case store.StateDead, store.StateIgnored:
			if strings.TrimSpace(e.Reason) == "" {
				t.Errorf("event %s: %s without a reason", e.ID, e.State)
			}
			t.Logf("event %s: %s: %s", e.ID, e.State, e.Reason)
		case store.StateDuplicate:
			if e.DuplicateOf == "" {
				t.Errorf("event %s: duplicate of nothing", e.ID)
			}
		default:
			t.Errorf("event %s: unexpected final state %s", e.ID, e.State)
		}
	}
	total := count[store.StateDone] + count[store.StateIgnored] + count[store.StateDead] + count[store.StateDuplicate]
	t.Logf("%d mails: %d tickets, %d ignored, %d dead letters, %d duplicates; %d attachments byte-identical in RT",
		len(files), count[store.StateDone], count[store.StateIgnored], count[store.StateDead], count[store.StateDuplicate], checked)
	if total != len(files) || len(evs) != len(files) {
		t.Errorf("accounted %d of %d mails (%d events)", total, len(files), len(evs))
	}
	if got := box.count(failed); got != count[store.StateDead] {
		t.Errorf("failure folder holds %d mails, want %d (the dead letters)", got, count[store.StateDead])
	}
	if got := box.count(inbox); got != len(files)-count[store.StateDead] {
		t.Errorf("inbox holds %d mails, want %d (all but the dead letters, marked seen)", got, len(files)-count[store.StateDead])
	}
}

func names(atts []rtapi.AttachmentInfo) []string {
	var out []string
	for _, a := range atts {
		out = append(out, a.Name)
	}
	return out
}
