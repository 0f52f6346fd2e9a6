package imapsource

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rtbridge/rtbridge/bridge/mailparse"
)

// TestHeaderFetchIsBounded: a message that is all header (no blank line,
// 900 KiB of folded lines) is fetched for its dedup key only up to the
// parser's header cap, yet accepted whole, byte for byte, with the key of
// its Message-ID; and Dovecot answers the partial header fetch in a form
// the client matches (BODY[HEADER]<0>).
func TestHeaderFetchIsBounded(t *testing.T) {
	d := newDovecot(t)
	cfg := d.config("starttls")
	msgid := fmt.Sprintf("all-header-%d@example.org", time.Now().UnixNano())
	var b bytes.Buffer
	fmt.Fprintf(&b, "Message-ID: <%s>\r\nFrom: x@example.org\r\nSubject: folded", msgid)
	for b.Len() < 900<<10 {
		b.WriteString("\r\n a")
	}
	b.WriteString("\r\n")
	raw := b.Bytes()
	if len(raw) <= mailparse.DefaultMaxHeaderBytes*3 {
		t.Fatalf("test message too small: %d bytes", len(raw))
	}
	d.append(d.folder, raw)
	st := openStore(t)
	src, err := New(cfg, d.folder, st, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	run(t, src, st)
	got := st.waitFor(t, 1, 20*time.Second)
	ev, err := st.Event(t.Context(), got[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if stored := rawOf(t, st, got[0].ID); !bytes.Equal(stored, raw) {
		t.Errorf("stored %d bytes, appended %d (first difference matters: the message must be kept whole)", len(stored), len(raw))
	}
	if ev.RawSize != int64(len(raw)) {
		t.Errorf("raw size %d, want %d", ev.RawSize, len(raw))
	}
	h := mustHeaders(t, d, cfg)
	if n := len(h); n == 0 || n > mailparse.DefaultMaxHeaderBytes {
		t.Errorf("header fetch returned %d bytes, want 1..%d", n, mailparse.DefaultMaxHeaderBytes)
	}
	if k := dedupKey(h); k != "msgid:"+strings.ToLower(msgid) && k != "msgid:"+msgid {
		t.Errorf("dedup key %q, want the Message-ID's", k)
	}
}

// mustHeaders runs the source's own header fetch over the admin connection
// for the folder's one message.
func mustHeaders(t *testing.T, d *dovecot, cfg configIMAP) []byte {
	t.Helper()
	d.connectAdmin()
	uids := d.uids(d.folder, "")
	if _, err := d.admin.Select(d.folder, nil).Wait(); err != nil {
		t.Fatal(err)
	}
	defer func() { d.admin.Unselect().Wait() }()
	src, err := New(cfg, d.folder, openStore(t), testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	heads, err := src.fetchHeaders(t.Context(), d.admin, uids)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range heads {
		return h.header
	}
	t.Fatal("no header fetched")
	return nil
}
