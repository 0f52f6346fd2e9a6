package daemon

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/rtbridge/rtbridge/bridge/imapsource"
	"github.com/rtbridge/rtbridge/bridge/mailparse"
	"github.com/rtbridge/rtbridge/bridge/source"
	"github.com/rtbridge/rtbridge/bridge/store"
	"github.com/rtbridge/rtbridge/event"
	"github.com/rtbridge/rtbridge/internal/testenv"
)

// mailbox is a set of test folders on the shared Dovecot: the watched
// folder, the processed folder and the failure folder.
type mailbox struct {
	t                        *testing.T
	env                      map[string]string
	admin                    *imapclient.Client
	inbox, processed, failed string
}

func newMailbox(t *testing.T) *mailbox {
	t.Helper()
	env := testenv.Require(t, "IMAP_HOST", "IMAP_PORT", "IMAP_USER", "IMAP_PASSWORD", "IMAP_CA_CERT")
	c, err := imapclient.DialInsecure(net.JoinHostPort(env["IMAP_HOST"], env["IMAP_PORT"]), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Login(env["IMAP_USER"], env["IMAP_PASSWORD"]).Wait(); err != nil {
		t.Fatal(err)
	}
	base := fmt.Sprintf("d-%s-%d", strings.ReplaceAll(t.Name(), "/", "-"), time.Now().UnixNano())
	m := &mailbox{t: t, env: env, admin: c, inbox: base, processed: base + "-done", failed: base + "-failed"}
	for _, f := range []string{m.inbox, m.processed, m.failed} {
		// ALREADYEXISTS: seen once from the shared Dovecot under parallel
		// creates; the name is this test's own, so the folder is ours.
		if err := c.Create(f, nil).Wait(); err != nil && !strings.Contains(err.Error(), "ALREADYEXISTS") {
			t.Fatalf("create %s: %v", f, err)
		}
	}
	t.Cleanup(func() {
		for _, f := range []string{m.inbox, m.processed, m.failed} {
			c.Delete(f).Wait()
		}
		c.Close()
	})
	return m
}

// config is the imap section for the account "mail" watching m.inbox.
func (m *mailbox) config(dir, extra string) string {
	os.WriteFile(filepath.Join(dir, "imap-password"), []byte(m.env["IMAP_PASSWORD"]+"\n"), 0o600)
	return fmt.Sprintf(`imap:
  - name: mail
    address: %s:%s
    tls: starttls
    ca_file: %s
    server_name: localhost
    username: %s
    password_file: imap-password
    folders: [%s]
    poll_interval: 1s
    disposition: "move: %s"
    failure_folder: %s
%s`, m.env["IMAP_HOST"], m.env["IMAP_PORT"], m.env["IMAP_CA_CERT"], m.env["IMAP_USER"], m.inbox, m.processed, m.failed, extra)
}

// appendMail puts raw into the watched folder and returns its UIDVALIDITY
// and UID.
func (m *mailbox) appendMail(raw []byte) (uint32, imap.UID) {
	m.t.Helper()
	cmd := m.admin.Append(m.inbox, int64(len(raw)), nil)
	cmd.Write(raw)
	cmd.Close()
	d, err := cmd.Wait()
	if err != nil || d.UID == 0 {
		m.t.Fatalf("append: %+v %v", d, err)
	}
	return d.UIDValidity, d.UID
}

// count is the number of messages in folder (0 when it does not exist).
func (m *mailbox) count(folder string) int {
	m.t.Helper()
	d, err := m.admin.Status(folder, &imap.StatusOptions{NumMessages: true}).Wait()
	if err != nil && strings.Contains(err.Error(), "doesn't exist") {
		return 0 // not created yet
	}
	if err != nil {
		m.t.Fatalf("status %s: %v", folder, err)
	}
	return int(*d.NumMessages)
}

// where is the one folder holding a message ("" while in none or several).
func (m *mailbox) where() string {
	var in []string
	for _, f := range []string{m.inbox, m.processed, m.failed} {
		if m.count(f) > 0 {
			in = append(in, f)
		}
	}
	if len(in) != 1 {
		return strings.Join(in, "+")
	}
	return in[0]
}

func (m *mailbox) waitIn(folder string, within time.Duration) {
	m.t.Helper()
	deadline := time.Now().Add(within)
	for m.where() != folder {
		if time.Now().After(deadline) {
			m.t.Fatalf("the message is in %q, want %q", m.where(), folder)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func imapMail(subject, msgid string) []byte {
	return []byte(fmt.Sprintf("From: Alice <alice@example.org>\r\nTo: support@example.org\r\nSubject: %s\r\nMessage-ID: <%s>\r\nDate: Mon, 2 Jan 2006 15:04:05 +0000\r\n\r\nHello\r\n", subject, msgid))
}

// mailRules: mail opens a ticket in General, except mail whose subject
// starts with "dead", which asks for a queue RT does not have.
const mailRules = `  - name: mail to a queue RT lacks
    when: { kind: mail, subject: '~^dead' }
    do:
      - create: { queue: 'rtbridge no such queue', subject: '{{ .Subject }}' }
  - name: mail tickets
    when: { kind: mail }
    do:
      - create: { queue: General, subject: '{{ .Subject }}' }
`

// crashedAccept leaves the state a kill between the store's commit and the
// cursor's advance leaves: the message's event is stored (due only after
// delay, so the duplicate is seen while it is pending), the cursor is not.
func crashedAccept(t *testing.T, dir string, uv uint32, uid imap.UID, raw []byte, folder string, delay time.Duration) string {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(dir, "state"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	key, err := mailparse.DedupKey(strings.NewReader(string(raw)), mailparse.DefaultMaxHeaderBytes)
	if err != nil {
		t.Fatal(err)
	}
	acc, err := st.Accept(ctx, source.Incoming{Source: "mail/" + folder, Kind: event.KindMail, DedupKey: key,
		Raw: strings.NewReader(string(raw)), Origin: map[string]string{
			imapsource.OriginFolder: folder, imapsource.OriginUIDValidity: fmt.Sprint(uv), imapsource.OriginUID: fmt.Sprint(uid)}})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Defer(ctx, acc.ID, time.Now().Add(delay)); err != nil {
		t.Fatal(err)
	}
	return acc.ID
}

// After a crash between commit and cursor advance the same UID is accepted
// again as a duplicate. Its disposition waits for the original: the mail
// stays in the inbox while the original is pending, goes to the processed
// folder once RT has the ticket, and to the failure folder when the
// original is dead-lettered.
func TestDuplicateDispositionFollowsOriginal(t *testing.T) {
	rt := testenv.RequireRT(t)
	for _, tc := range []struct{ name, subject, want string }{
		{"done", "rtbridge dup follows done", "processed"},
		{"dead", "dead: rtbridge dup follows dead", "failed"},
	} {
		// The other order (the original already final when the duplicate
		// is accepted) lists both at once: see the store's
		// TestUnfinishedDuplicateWaitsForOriginal.
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := newMailbox(t)
			dir := t.TempDir()
			subject := fmt.Sprintf("%s %d", tc.subject, time.Now().UnixNano())
			raw := imapMail(subject, fmt.Sprintf("dup-%s-%d@example.org", tc.name, time.Now().UnixNano()))
			uv, uid := m.appendMail(raw)
			const pending = 12 * time.Second // past the executor's 5 s disposition round
			orig := crashedAccept(t, dir, uv, uid, raw, m.inbox, pending)
			cfgPath := testConfig(t, dir, rt.URL, rt.Token, mailRules)
			appendConfig(t, cfgPath, m.config(dir, ""))
			started := time.Now()
			r := start(t, cfgPath)

			// The duplicate is seen at once; the original stays pending.
			waitLog(t, r, "duplicate=true", 10*time.Second)
			for time.Since(started) < pending-time.Second {
				if w := m.where(); w != m.inbox {
					t.Fatalf("%.1f s after start, with the original %s still pending, the mail is in %q", time.Since(started).Seconds(), orig, w)
				}
				time.Sleep(200 * time.Millisecond)
			}
			want := map[string]string{"processed": m.processed, "failed": m.failed}[tc.want]
			m.waitIn(want, 30*time.Second)
			if tc.want == "processed" {
				waitTickets(t, rtClient(t, rt), subject, 1, 10*time.Second)
			}
			// Both dispositions ran, the duplicate's with the original's outcome.
			waitLog(t, r, fmt.Sprintf("event=%s state=%s", orig, tc.name), 10*time.Second)
			dupState := map[string]string{"done": "duplicate", "dead": "dead"}[tc.name]
			for deadline := time.Now().Add(10 * time.Second); strings.Count(r.log.String(), `msg="disposition done"`) < 2; time.Sleep(50 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatalf("the duplicate's disposition did not run:\n%s", grepLog(r.log.String(), "disposition"))
				}
			}
			if !strings.Contains(r.log.String(), "state="+dupState+" uid=") {
				t.Errorf("no disposition with state %s:\n%s", dupState, grepLog(r.log.String(), "disposition"))
			}
		})
	}
}

func appendConfig(t *testing.T, path, text string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(text); err != nil {
		t.Fatal(err)
	}
}

func waitLog(t *testing.T, r *running, want string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !strings.Contains(r.log.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("log never said %q:\n%s", want, grepLog(r.log.String(), "imap", "disposition", "mail"))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func grepLog(s string, words ...string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if slices.ContainsFunc(words, func(w string) bool { return strings.Contains(l, w) }) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// A move to a folder that does not exist leaves the mail in the inbox and
// shows the source degraded in /status and the metrics; the mail counts as
// accepted all the same. With create_folders the next start creates the
// folder and the disposition goes through.
func TestIMAPMissingFolderDegradedThenCreated(t *testing.T) {
	t.Parallel()
	rt := testenv.RequireRT(t)
	m := newMailbox(t)
	if err := m.admin.Delete(m.processed).Wait(); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	name := "mail/" + m.inbox
	subject := fmt.Sprintf("rtbridge missing folder %d", time.Now().UnixNano())
	m.appendMail(imapMail(subject, fmt.Sprintf("missing-%d@example.org", time.Now().UnixNano())))
	cfgPath := testConfig(t, dir, rt.URL, rt.Token, mailRules)
	appendConfig(t, cfgPath, m.config(dir, ""))
	r := start(t, cfgPath)
	waitTickets(t, rtClient(t, rt), subject, 1, 30*time.Second)

	state := func() string {
		var st Status
		_, body := r.get(t, "/status")
		if err := json.Unmarshal([]byte(body), &st); err != nil {
			t.Fatalf("/status: %v\n%s", err, body)
		}
		return st.Sources[name]
	}
	for deadline := time.Now().Add(15 * time.Second); !strings.HasPrefix(state(), "degraded: "); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("/status shows the source %q, want degraded", state())
		}
	}
	t.Logf("/status: %s", state())
	if !strings.Contains(state(), m.processed) {
		t.Errorf("the degraded state does not name the folder: %s", state())
	}
	if n := m.count(m.inbox); n != 1 {
		t.Errorf("%d messages in the inbox, want the one left there", n)
	}
	wantMetrics(t, r, 10*time.Second,
		fmt.Sprintf(`rtbridge_source_degraded{source=%q} 1`, name),
		fmt.Sprintf(`rtbridge_source_up{source=%q} 1`, name),
		fmt.Sprintf(`rtbridge_events_accepted_total{source=%q} 1`, name),
		fmt.Sprintf(`rtbridge_imap_messages_fetched_total{source=%q} 1`, name),
		fmt.Sprintf(`rtbridge_imap_idle{source=%q} 1`, name),
		`rtbridge_events_accepted_total{source="deploys"} 0`)
	_, metrics := r.get(t, "/metrics")
	for _, series := range []string{"rtbridge_source_last_accept_timestamp_seconds", "rtbridge_imap_last_success_timestamp_seconds"} {
		if line := grepLines(metrics, fmt.Sprintf("%s{source=%q}", series, name)); line == "" || strings.HasSuffix(line, " 0") {
			t.Errorf("%s: %q, want a time", series, line)
		}
	}
	r.stop(t)

	testConfig(t, dir, rt.URL, rt.Token, mailRules)
	appendConfig(t, cfgPath, m.config(dir, "    create_folders: true\n"))
	r = start(t, cfgPath)
	m.waitIn(m.processed, 30*time.Second)
	for deadline := time.Now().Add(10 * time.Second); state() != "ok"; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("after create_folders the source is %q, want ok", state())
		}
	}
	wantMetrics(t, r, 10*time.Second, fmt.Sprintf(`rtbridge_source_degraded{source=%q} 0`, name))
	waitLog(t, r, "folder created (create_folders)", time.Second)
}

func wantMetrics(t *testing.T, r *running, within time.Duration, lines ...string) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		_, body := r.get(t, "/metrics")
		missing := slices.DeleteFunc(slices.Clone(lines), func(l string) bool { return strings.Contains(body, l+"\n") })
		if len(missing) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("metrics lack %q:\n%s", missing, grepLines(body, "rtbridge_"))
		}
		time.Sleep(200 * time.Millisecond)
	}
}
