package imapsource

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/rtbridge/rtbridge/bridge/config"
	"github.com/rtbridge/rtbridge/bridge/source"
	"github.com/rtbridge/rtbridge/bridge/store"
	"github.com/rtbridge/rtbridge/internal/testenv"
)

// dovecot is the test server plus a private folder for one test.
type dovecot struct {
	t      *testing.T
	env    map[string]string
	folder string
	admin  *imapclient.Client
	// private is set when the test runs its own Dovecot (see newPrivateDovecot).
	private *privateDovecot
}

func newDovecot(t *testing.T) *dovecot {
	t.Helper()
	env := testenv.Require(t, "IMAP_HOST", "IMAP_PORT", "IMAPS_PORT", "IMAP_USER", "IMAP_PASSWORD", "IMAP_CA_CERT", "IMAP_CONF")
	d := &dovecot{t: t, env: env, folder: fmt.Sprintf("t-%s-%d", strings.ReplaceAll(t.Name(), "/", "-"), time.Now().UnixNano())}
	d.connectAdmin()
	if err := d.admin.Create(d.folder, nil).Wait(); err != nil {
		t.Fatalf("create folder: %v", err)
	}
	t.Cleanup(func() {
		d.connectAdmin()
		d.admin.Delete(d.folder).Wait()
		d.admin.Close()
	})
	return d
}

func (d *dovecot) connectAdmin() {
	if d.admin != nil {
		d.admin.Close()
	}
	c, err := imapclient.DialInsecure(net.JoinHostPort(d.env["IMAP_HOST"], d.env["IMAP_PORT"]), nil)
	if err != nil {
		d.t.Fatalf("admin dial: %v", err)
	}
	if err := c.Login(d.env["IMAP_USER"], d.env["IMAP_PASSWORD"]).Wait(); err != nil {
		d.t.Fatalf("admin login: %v", err)
	}
	d.admin = c
}

func (d *dovecot) createFolder(name string) string {
	full := d.folder + "-" + name
	if err := d.admin.Create(full, nil).Wait(); err != nil {
		d.t.Fatalf("create %s: %v", full, err)
	}
	d.t.Cleanup(func() { d.admin.Delete(full).Wait() })
	return full
}

func (d *dovecot) append(folder string, raw []byte, flags ...imap.Flag) {
	d.t.Helper()
	cmd := d.admin.Append(folder, int64(len(raw)), &imap.AppendOptions{Flags: flags})
	if _, err := cmd.Write(raw); err != nil {
		d.t.Fatalf("append: %v", err)
	}
	if err := cmd.Close(); err != nil {
		d.t.Fatalf("append: %v", err)
	}
	if _, err := cmd.Wait(); err != nil {
		d.t.Fatalf("append: %v", err)
	}
}

// uids lists the UIDs in folder, optionally only those with a flag.
func (d *dovecot) uids(folder string, flag imap.Flag) []imap.UID {
	d.t.Helper()
	if _, err := d.admin.Select(folder, &imap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
		d.t.Fatalf("select %s: %v", folder, err)
	}
	crit := &imap.SearchCriteria{}
	if flag != "" {
		crit.Flag = []imap.Flag{flag}
	}
	sd, err := d.admin.UIDSearch(crit, nil).Wait()
	if err != nil {
		d.t.Fatalf("search: %v", err)
	}
	d.admin.Unselect().Wait()
	return sd.AllUIDs()
}

type configIMAP = config.IMAP

func (d *dovecot) config(mode string) config.IMAP {
	c := config.IMAP{
		Name: "test", Username: d.env["IMAP_USER"], Password: config.Secret(d.env["IMAP_PASSWORD"]),
		Folders: []string{d.folder}, PollInterval: time.Second, BatchSize: 10,
		MaxMessageBytes: 1 << 20, Disposition: "seen", TLS: mode,
		CAFile: d.env["IMAP_CA_CERT"], ServerName: "localhost",
	}
	switch mode {
	case "implicit":
		c.Address = net.JoinHostPort(d.env["IMAP_HOST"], d.env["IMAPS_PORT"])
	case "none":
		c.AllowPlaintext = true
		fallthrough
	default:
		c.Address = net.JoinHostPort(d.env["IMAP_HOST"], d.env["IMAP_PORT"])
	}
	return c
}

// recorder is the real store plus a list of what Accept answered.
type recorder struct {
	*store.Store
	mu  sync.Mutex
	got []source.Accepted
}

func (r *recorder) Accept(ctx context.Context, in source.Incoming) (source.Accepted, error) {
	a, err := r.Store.Accept(ctx, in)
	if err == nil {
		r.mu.Lock()
		r.got = append(r.got, a)
		r.mu.Unlock()
	}
	return a, err
}

func (r *recorder) accepted() []source.Accepted {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]source.Accepted(nil), r.got...)
}

func (r *recorder) waitFor(t *testing.T, n int, within time.Duration) []source.Accepted {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if got := r.accepted(); len(got) >= n {
			return got
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("accepted %d messages, want %d", len(r.accepted()), n)
	return nil
}

func openStore(t *testing.T) *recorder {
	st, err := store.Open(context.Background(), t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return &recorder{Store: st}
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// run starts src and stops it at test end.
func run(t *testing.T, src *Source, sink source.Sink) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- src.Run(ctx, sink) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
}

func mail(subject, msgid string) []byte {
	return []byte(fmt.Sprintf("From: Alice <alice@example.org>\r\nTo: support@example.org\r\nSubject: %s\r\nMessage-ID: <%s>\r\nDate: Mon, 2 Jan 2006 15:04:05 +0000\r\n\r\nHello %s\r\n", subject, msgid, subject))
}

func rawOf(t *testing.T, st *recorder, id string) []byte {
	rc, err := st.Raw(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestTLSModes(t *testing.T) {
	for _, mode := range []string{"none", "starttls", "implicit"} {
		t.Run(mode, func(t *testing.T) {
			d := newDovecot(t)
			st := openStore(t)
			src, err := New(d.config(mode), d.folder, st, testLogger(t))
			if err != nil {
				t.Fatal(err)
			}
			msg := mail("tls "+mode, fmt.Sprintf("tls-%s-%d@example.org", mode, time.Now().UnixNano()))
			d.append(d.folder, msg)
			run(t, src, st)
			got := st.waitFor(t, 1, 10*time.Second)
			if raw := rawOf(t, st, got[0].ID); !bytes.Equal(raw, msg) {
				t.Fatalf("stored raw differs:\n%q\nwant\n%q", raw, msg)
			}
			if err := src.Health(); err != nil {
				t.Errorf("Health: %v", err)
			}
		})
	}
}

func TestWrongPassword(t *testing.T) {
	d := newDovecot(t)
	cfg := d.config("starttls")
	cfg.Password = "not-the-password-xyzzy"
	st := openStore(t)
	src, err := New(cfg, d.folder, st, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	run(t, src, st)
	deadline := time.Now().Add(5 * time.Second)
	for src.Health() == nil && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	err = src.Health()
	if err == nil || !strings.Contains(err.Error(), "login rejected") {
		t.Fatalf("Health = %v, want a login error", err)
	}
	if strings.Contains(err.Error(), "xyzzy") || strings.Contains(src.Status().LastError, "xyzzy") {
		t.Fatalf("password leaked into the error: %v", err)
	}
	t.Logf("Health: %v", err)
}

func TestIdleDeliveryAndSeenByHuman(t *testing.T) {
	d := newDovecot(t)
	cfg := d.config("starttls")
	cfg.PollInterval = 10 * time.Minute // only IDLE can bring the mail in time
	st := openStore(t)
	src, _ := New(cfg, d.folder, st, testLogger(t))
	run(t, src, st)
	deadline := time.Now().Add(5 * time.Second)
	for !src.Status().Idling && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if !src.Status().Idling {
		t.Fatal("source never entered IDLE")
	}
	start := time.Now()
	// A human already read it: \Seen must not matter.
	d.append(d.folder, mail("idle", fmt.Sprintf("idle-%d@example.org", start.UnixNano())), imap.FlagSeen)
	st.waitFor(t, 1, 10*time.Second)
	t.Logf("IDLE delivery: append → committed in %v", time.Since(start))
}

func TestRestartMidIdle(t *testing.T) {
	// Restarting the shared Dovecot would cut every other package's tests
	// running at the same time, so this test restarts a private instance.
	d := newPrivateDovecot(t)
	cfg := d.config("starttls")
	cfg.PollInterval = 10 * time.Minute
	st := openStore(t)
	src, _ := New(cfg, d.folder, st, testLogger(t))
	d.append(d.folder, mail("before", fmt.Sprintf("before-%d@example.org", time.Now().UnixNano())))
	run(t, src, st)
	st.waitFor(t, 1, 10*time.Second)
	for !src.Status().Idling {
		time.Sleep(10 * time.Millisecond)
	}
	restart := time.Now()
	d.private.stop(t)
	d.private.start(t)
	t.Logf("dovecot restarted in %v", time.Since(restart))
	d.connectAdmin()
	d.append(d.folder, mail("after", fmt.Sprintf("after-%d@example.org", time.Now().UnixNano())))
	st.waitFor(t, 2, 30*time.Second)
	// The old imap process may outlive the master for a few seconds; wait
	// until it is gone and the source has reconnected.
	deadline := time.Now().Add(30 * time.Second)
	for src.Status().Reconnects == 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	s := src.Status()
	if s.Reconnects == 0 {
		t.Fatalf("no reconnect after the restart: %+v", s)
	}
	t.Logf("reconnected %v after the restart (last error: %s)", time.Since(restart), s.LastError)
	d.append(d.folder, mail("reconnected", fmt.Sprintf("reconnected-%d@example.org", time.Now().UnixNano())))
	st.waitFor(t, 3, 30*time.Second)
}

func TestUIDValidityChangeRescansWithoutDuplicates(t *testing.T) {
	d := newDovecot(t)
	st := openStore(t)
	cfg := d.config("none")
	src, _ := New(cfg, d.folder, st, testLogger(t))
	for i := range 3 {
		d.append(d.folder, mail(fmt.Sprint("m", i), fmt.Sprintf("uv-%d-%d@example.org", i, time.Now().UnixNano())))
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- src.Run(ctx, st) }()
	st.waitFor(t, 3, 10*time.Second)
	cancel()
	<-done
	// Pretend the server rebuilt the folder.
	if err := st.SetCursor(context.Background(), src.Name(), cursorKey, "1:99999"); err != nil {
		t.Fatal(err)
	}
	run(t, src, st)
	got := st.waitFor(t, 6, 10*time.Second)
	for _, a := range got[3:] {
		if !a.Duplicate {
			t.Errorf("rescan accepted %s as new, want a duplicate", a.ID)
		}
	}
}
