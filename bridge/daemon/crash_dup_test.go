package daemon

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rtbridge/rtbridge/bridge/store"
	"github.com/rtbridge/rtbridge/internal/testenv"
)

// rtGate is a proxy in front of RT that answers 503 to everything until it
// is opened: while it is shut, no event can finish, so the order of "RT has
// it" and "the mail moved" is the test's to decide.
func rtGate(t *testing.T, target string) (string, *atomic.Bool) {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	var open atomic.Bool
	rp := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !open.Load() {
			http.Error(w, "gate shut by the test", http.StatusServiceUnavailable)
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/", &open
}

// refuseCursorAdvance makes the state database refuse every cursor that
// moves past UID 0: the store commits the mail's event, then the source's
// cursor advance fails. This puts the daemon deterministically in the
// window between the two writes, where the test kills it; nothing of it is
// in the binary. The returned func removes the triggers (daemon stopped).
func refuseCursorAdvance(t *testing.T, stateDir string) func() {
	t.Helper()
	st, err := store.Open(context.Background(), stateDir, store.Options{}) // create and migrate
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	exec := func(q string) {
		t.Helper()
		db, err := sql.Open("sqlite", filepath.Join(stateDir, store.DBName))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	const cond = `WHEN NEW.key = 'cursor' AND NEW.value NOT LIKE '%:0' BEGIN SELECT RAISE(ABORT, 'test failpoint: cursor advance refused'); END`
	exec(`CREATE TRIGGER test_failpoint_ins BEFORE INSERT ON cursors ` + cond + `;
		CREATE TRIGGER test_failpoint_upd BEFORE UPDATE ON cursors ` + cond)
	return func() { exec(`DROP TRIGGER test_failpoint_ins; DROP TRIGGER test_failpoint_upd`) }
}

var acceptedRE = regexp.MustCompile(`msg="mail accepted" .*event=(\S+) duplicate=(true|false)`)

// The daemon binary is killed with SIGKILL after a mail's event committed
// and before the folder's cursor advanced. At the restart the same UID is
// accepted again, as a duplicate, while the original is still pending (RT
// is held shut). The duplicate's disposition follows the original: the
// mail stays in the inbox until RT has the ticket and then goes to the
// processed folder, or, when the original is dead-lettered, to the
// failure folder. Real Dovecot, real RT.
func TestCrashBetweenCommitAndCursorDuplicateFollowsOriginal(t *testing.T) {
	rt := testenv.RequireRT(t)
	for _, tc := range []struct{ name, subject string }{
		{"done", "rtbridge crash dup done"},
		{"dead", "dead: rtbridge crash dup dead"}, // mailRules: a queue RT lacks
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel() // own folders, state, port and subject
			m := newMailbox(t)
			dir := t.TempDir()
			addr := freePort(t)
			gate, open := rtGate(t, rt.URL)
			cfgPath := binaryConfig(t, dir, gate, rt.Token, addr, mailRules)
			b, _ := os.ReadFile(cfgPath)
			// The original must outlive the shut gate, not run out of attempts.
			cfg := strings.Replace(string(b), "stop_timeout: 3s", "stop_timeout: 3s\n  max_attempts: 1000", 1)
			os.WriteFile(cfgPath, []byte(cfg+m.config(dir, "")), 0o600)
			logPath := filepath.Join(dir, "daemon.log")
			allow := refuseCursorAdvance(t, filepath.Join(dir, "state"))

			subject := fmt.Sprintf("%s %d", tc.subject, time.Now().UnixNano())
			m.appendMail(imapMail(subject, fmt.Sprintf("crashdup-%s-%d@example.org", tc.name, time.Now().UnixNano())))
			p := startBinary(t, cfgPath, addr, logPath)
			for deadline := time.Now().Add(30 * time.Second); !strings.Contains(readLog(logPath), "test failpoint: cursor advance refused"); time.Sleep(5 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatalf("the cursor advance was never tried:\n%s", grepLog(readLog(logPath), "imap", "mail"))
				}
			}
			p.kill() // the source waits a second before it reconnects: well inside
			accepts := acceptedRE.FindAllStringSubmatch(readLog(logPath), -1)
			if len(accepts) != 1 || accepts[0][2] != "false" {
				t.Fatalf("before the kill: want one first accept, got %q", accepts)
			}
			orig := accepts[0][1]
			if n := m.count(m.inbox); n != 1 {
				t.Fatalf("%d messages in the inbox after the kill, want 1", n)
			}
			allow()

			p = startBinary(t, cfgPath, addr, logPath)
			for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
				if a := acceptedRE.FindAllStringSubmatch(readLog(logPath), -1); len(a) == 2 && a[1][2] == "true" {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("the UID was not accepted again as a duplicate:\n%s", grepLog(readLog(logPath), "imap", "mail"))
				}
			}
			t.Logf("restarted; the UID is a duplicate of %s, which is pending behind the shut RT", orig)
			// Past the executor's 5 s disposition round: nothing may move.
			for held := time.Now(); time.Since(held) < 8*time.Second; time.Sleep(200 * time.Millisecond) {
				if w := m.where(); w != m.inbox {
					t.Fatalf("%.1f s after the duplicate, with its original pending, the mail is in %q", time.Since(held).Seconds(), w)
				}
			}
			open.Store(true)
			opened := time.Now()
			want := map[string]string{"done": m.processed, "dead": m.failed}[tc.name]
			var ticketSeen, movedSeen time.Duration
			for {
				w := m.where() // the folder first: a ticket found after it existed at the move
				n := countTickets(t, rt, subject)[subject]
				if n > 0 && ticketSeen == 0 {
					ticketSeen = time.Since(opened)
				}
				if w != m.inbox {
					movedSeen = time.Since(opened)
					if tc.name == "done" && n == 0 {
						t.Fatalf("the mail is in %q while RT has no ticket for it", w)
					}
					if tc.name == "dead" && !strings.Contains(readLog(logPath), "event dead-lettered") {
						t.Fatalf("the mail is in %q before its original was dead-lettered", w)
					}
					if w == want {
						break
					}
				}
				if time.Since(opened) > 120*time.Second {
					t.Fatalf("120 s after RT opened the mail is in %q, want %q\n%s", w, want, tail(grepOut(readLog(logPath), "level=DEBUG"), 40))
				}
				time.Sleep(100 * time.Millisecond)
			}
			t.Logf("RT opened; ticket seen after %v (0: none), mail in the %s folder after %v", ticketSeen.Round(time.Millisecond), tc.name, movedSeen.Round(time.Millisecond))
			log := readLog(logPath)
			if tc.name == "dead" {
				if n := countTickets(t, rt, subject)[subject]; n != 0 {
					t.Errorf("%d tickets for the dead original", n)
				}
			} else if n := countTickets(t, rt, subject)[subject]; n != 1 {
				t.Errorf("%d tickets for %q, want 1", n, subject)
			}
			// The duplicate's own disposition ran too, with the original's outcome.
			dupState := map[string]string{"done": "duplicate", "dead": "dead"}[tc.name]
			for deadline := time.Now().Add(15 * time.Second); strings.Count(log, `msg="disposition done"`) < 2; log = readLog(logPath) {
				if time.Now().After(deadline) {
					t.Fatalf("the duplicate's disposition did not run:\n%s", grepLog(log, "disposition"))
				}
				time.Sleep(100 * time.Millisecond)
			}
			if !strings.Contains(log, "state="+dupState+" uid=") {
				t.Errorf("no disposition with state %s:\n%s", dupState, grepLog(log, "disposition"))
			}
			p.term(t)
		})
	}
}
