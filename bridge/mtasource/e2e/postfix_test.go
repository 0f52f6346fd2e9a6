// Package e2e_test runs the MTA intake end to end: a real Postfix (the
// private instance test/servers/postfix starts) delivers through an
// /etc/aliases pipe to `rtbridge mailgate` and through an LMTP transport to
// the daemon's LMTP socket, and the daemon files the mail in the real RT.
package e2e_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/smtp"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rtbridge/rtbridge/bridge/source"
	"github.com/rtbridge/rtbridge/bridge/store"
	"github.com/rtbridge/rtbridge/internal/testenv"
	"github.com/rtbridge/rtbridge/rtapi"
)

// env is the test's servers: Postfix, RT, and the daemon's files.
type env struct {
	t    testing.TB
	pf   map[string]string
	rt   testenv.RT
	rtc  *rtapi.Client
	dir  string
	bin  string // the rtbridge binary the daemon runs
	cfg  string
	addr string
	d    *exec.Cmd
	done chan struct{}
}

func setup(t testing.TB) *env { return setupWith(t, "", "", "") }

// setupWith writes the daemon's config: rtURL replaces RT's address (a
// proxy), mtaExtra adds keys to the mta section (it comes last, so it may
// go on with top-level sections such as rules:), routesExtra LMTP routes.
func setupWith(t testing.TB, rtURL, mtaExtra, routesExtra string) *env {
	t.Helper()
	pf := testenv.Require(t, "POSTFIX_SMTP_ADDR", "POSTFIX_PIPE_ADDRESS", "POSTFIX_COMMENT_ADDRESS", "POSTFIX_LMTP_ADDRESS",
		"POSTFIX_LMTP_DOMAIN", "POSTFIX_LMTP_SOCKET", "POSTFIX_MAILGATE_BIN", "POSTFIX_MAILGATE_SOCKET", "POSTFIX_POSTQUEUE", "POSTFIX_POSTSUPER")
	rt := testenv.RequireRT(t)
	rtc, err := rtapi.New(rtapi.Config{URL: rt.URL, Auth: rtapi.NewTokenAuth(rt.Token)})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, pf: pf, rt: rt, rtc: rtc, dir: t.TempDir()}
	if rtURL == "" {
		rtURL = rt.URL
	}
	e.installBinary()
	// Mail left in the queue by an earlier run would arrive in this one.
	exec.Command(pf["POSTFIX_POSTSUPER"], "-d", "ALL").Run()
	tok := filepath.Join(e.dir, "rt-token")
	os.WriteFile(tok, []byte(rt.Token+"\n"), 0o600)
	e.addr = freePort(t)
	e.cfg = filepath.Join(e.dir, "rtbridge.yaml")
	cfg := fmt.Sprintf(`rt:
  url: %s
  auth: token
  token_file: %s
  idempotency_field: RTBridgeKey
  timeout: 10s
  max_concurrency: 2
state: { dir: %s }
log: { level: debug }
http: { listen: %s }
executor:
  workers: 2
  backoff: { initial: 200ms, max: 1s }
mta:
  mailgate: { socket: %s, mode: "0666" }
  lmtp:
    listen: unix:%s
    mode: "0666"
    routes:
      - { recipient: %s, queue: General, action: correspond }
      - { recipient: "comment@%s", queue: General, action: comment }
%s      - { recipient: "*@%s", queue: General, action: correspond }
  rt_names: [example.com]
%s`, rtURL, tok, filepath.Join(e.dir, "state"), e.addr, pf["POSTFIX_MAILGATE_SOCKET"], pf["POSTFIX_LMTP_SOCKET"],
		pf["POSTFIX_LMTP_ADDRESS"], pf["POSTFIX_LMTP_DOMAIN"], routesExtra, pf["POSTFIX_LMTP_DOMAIN"], mtaExtra)
	if err := os.WriteFile(e.cfg, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.stopAndShowLog)
	return e
}

// installBinary builds rtbridge where the Postfix alias runs it (a 0755
// directory: the pipe runs as an unprivileged user).
func (e *env) installBinary() {
	e.bin = e.pf["POSTFIX_MAILGATE_BIN"]
	e.build()
}

// build builds rtbridge as e.bin.
func (e *env) build() {
	bin := e.bin
	tmp := bin + ".new"
	cmd := exec.Command("go", "build", "-o", tmp, "./cmd/rtbridge")
	cmd.Dir = testenv.RepoRoot()
	cmd.Env = append(os.Environ(), "GOTOOLCHAIN=local")
	if out, err := cmd.CombinedOutput(); err != nil {
		e.t.Fatalf("go build: %v\n%s", err, out)
	}
	os.Chmod(tmp, 0o755)
	if err := os.Rename(tmp, bin); err != nil {
		e.t.Fatal(err)
	}
}

func freePort(t testing.TB) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// start runs the daemon and waits for /healthz.
func (e *env) start() {
	e.t.Helper()
	logf, err := os.OpenFile(filepath.Join(e.dir, "daemon.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		e.t.Fatal(err)
	}
	e.d = exec.Command(e.bin, "run", "--config", e.cfg)
	e.d.Stdout, e.d.Stderr = logf, logf
	if err := e.d.Start(); err != nil {
		e.t.Fatal(err)
	}
	e.done = make(chan struct{})
	go func() { e.d.Wait(); logf.Close(); close(e.done) }()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if resp, err := http.Get("http://" + e.addr + "/healthz"); err == nil {
			resp.Body.Close()
			return
		}
	}
	e.t.Fatal("daemon did not answer /healthz")
}

// stop ends the daemon with SIGTERM (its sockets go away with it).
// stopAndShowLog stops the daemon and, when the test failed, logs the
// tail of its log.
func (e *env) stopAndShowLog() {
	e.stop()
	if e.t.Failed() {
		log, _ := os.ReadFile(filepath.Join(e.dir, "daemon.log"))
		e.t.Logf("daemon log (tail):\n%s", log[max(0, len(log)-8000):])
	}
}

func (e *env) stop() {
	if e.d == nil {
		return
	}
	e.d.Process.Signal(syscall.SIGTERM)
	select {
	case <-e.done:
	case <-time.After(40 * time.Second):
		e.d.Process.Kill()
		<-e.done
	}
	e.d = nil
}

// send submits raw to Postfix by SMTP.
func (e *env) send(from, to string, raw []byte) {
	e.t.Helper()
	if err := smtp.SendMail(e.pf["POSTFIX_SMTP_ADDR"], nil, from, []string{to}, raw); err != nil {
		e.t.Fatalf("smtp to %s: %v", to, err)
	}
}

// flush asks Postfix to retry its deferred mail now.
func (e *env) flush() {
	if q := e.pf["POSTFIX_POSTQUEUE"]; q != "" { // no Postfix: setupMailgate
		exec.Command(q, "-f").Run()
	}
}

// queued returns the messages in Postfix's queue.
func (e *env) queued() int {
	out, _ := exec.Command(e.pf["POSTFIX_POSTQUEUE"], "-j").Output()
	// postqueue reads the queue directories one after the other: a mail
	// moving from one to the next (active to deferred) shows in both, under
	// the queue id it keeps.
	ids := map[string]bool{}
	for _, line := range bytes.Split(out, []byte("\n")) {
		var m struct {
			QueueID string `json:"queue_id"`
		}
		if json.Unmarshal(line, &m) == nil && m.QueueID != "" {
			ids[m.QueueID] = true
		}
	}
	return len(ids)
}

// tickets returns the tickets whose subject contains tag, by subject.
func (e *env) tickets(tag string) map[string][]int {
	e.t.Helper()
	res, err := e.rtc.SearchTickets(context.Background(), fmt.Sprintf("Subject LIKE '%s'", tag), "id", "")
	if err != nil {
		e.t.Fatal(err)
	}
	out := map[string][]int{}
	for _, r := range res {
		out[r.Subject] = append(out[r.Subject], r.ID)
	}
	return out
}

// waitTickets waits until n distinct subjects with tag have tickets. It
// gives up when no new ticket appeared for stall: RT on SQLite under other
// load may take seconds per ticket, and that is slow, not lost.
func (e *env) waitTickets(tag string, n int, stall time.Duration) map[string][]int {
	e.t.Helper()
	last, seen := time.Now(), 0
	for end := time.Now().Add(20 * time.Minute); ; {
		got := e.tickets(tag)
		if len(got) > seen {
			last, seen = time.Now(), len(got)
		}
		if len(got) >= n || time.Since(last) > stall || time.Now().After(end) {
			return got
		}
		e.flush()
		time.Sleep(time.Second)
	}
}

// history waits until ticket has a transaction of type typ whose content
// holds text.
func (e *env) history(ticket int, typ, text string, within time.Duration) bool {
	e.t.Helper()
	for deadline := time.Now().Add(within); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		items, err := e.rtc.History(context.Background(), ticket, true)
		if err != nil {
			e.t.Fatal(err)
		}
		for _, it := range items {
			if it.Type == typ && strings.Contains(it.Content, text) {
				return true
			}
		}
		e.flush()
	}
	return false
}

// attachmentSum returns the sha256 of the ticket's attachment named name,
// as RT's /content serves it.
func (e *env) attachmentSum(ticket int, name string) string {
	e.t.Helper()
	list, err := e.rtc.Attachments(context.Background(), ticket)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, a := range list {
		if a.Name != name {
			continue
		}
		_, body, err := e.rtc.AttachmentContent(context.Background(), ticket, a.ID)
		if err != nil {
			e.t.Fatal(err)
		}
		defer body.Close()
		h := sha256.New()
		io.Copy(h, body)
		return hex.EncodeToString(h.Sum(nil))
	}
	return ""
}

// mail builds a message; attachment, when not nil, goes as blob.bin.
func mail(from, to, subject, msgid string, extra []string, text string, attachment []byte) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\nSubject: %s\r\nMessage-ID: <%s>\r\nDate: %s\r\nMIME-Version: 1.0\r\n",
		from, to, subject, msgid, time.Now().Format(time.RFC1123Z))
	for _, h := range extra {
		b.WriteString(h + "\r\n")
	}
	if attachment == nil {
		fmt.Fprintf(&b, "Content-Type: text/plain; charset=utf-8\r\n\r\n%s\r\n", text)
		return []byte(b.String())
	}
	b.WriteString("Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n")
	b.WriteString(text + "\r\n--b1\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"blob.bin\"\r\nContent-Transfer-Encoding: base64\r\n\r\n")
	enc := base64.StdEncoding.EncodeToString(attachment)
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	b.WriteString(enc + "\r\n--b1--\r\n")
	return []byte(b.String())
}

func tag(prefix string) string { return fmt.Sprintf("%s%d", prefix, time.Now().UnixNano()%1e10) }

// Both paths into the real RT: a new ticket with a binary attachment byte
// for byte; a reply by subject tag (comment alias) and one by References
// thread into their tickets; RT's own mail coming back (a loop) and an
// auto-reply open no ticket.
func TestPostfixIntoRT(t *testing.T) {
	e := setup(t)
	e.start()
	u := tag("MTA")
	blob := make([]byte, 200<<10)
	rand.Read(blob)
	want := sha256.Sum256(blob)
	const from = "alice@example.org"

	paths := map[string]string{"pipe": e.pf["POSTFIX_PIPE_ADDRESS"], "lmtp": e.pf["POSTFIX_LMTP_ADDRESS"]}
	for name, to := range paths {
		e.send(from, to, mail(from, to, u+" "+name, u+"-"+name+"@example.org", nil, "hello via "+name, blob))
	}
	got := e.waitTickets(u, 2, 60*time.Second)
	ids := map[string]int{}
	for name := range paths {
		list := got[u+" "+name]
		if len(list) != 1 {
			t.Fatalf("%s: tickets %v for subject %q, want exactly one (all: %v)", name, list, u+" "+name, got)
		}
		ids[name] = list[0]
		if sum := e.attachmentSum(list[0], "blob.bin"); sum != hex.EncodeToString(want[:]) {
			t.Errorf("%s: blob.bin in RT has sha256 %q, want %x", name, sum, want)
		}
		tk, err := e.rtc.Ticket(context.Background(), list[0])
		if err != nil {
			t.Fatal(err)
		}
		if tk.Queue != "General" || !strings.Contains(strings.Join(tk.Requestors, ","), from) {
			t.Errorf("%s: ticket %d queue %q requestors %v", name, list[0], tk.Queue, tk.Requestors)
		}
	}

	// A reply with RT's subject tag to the comment alias: a comment.
	tagged := fmt.Sprintf("Re: [example.com #%d] %s pipe", ids["pipe"], u)
	e.send(from, e.pf["POSTFIX_COMMENT_ADDRESS"], mail(from, e.pf["POSTFIX_COMMENT_ADDRESS"], tagged, u+"-r1@example.org", nil, "comment by tag "+u, nil))
	if !e.history(ids["pipe"], "Comment", "comment by tag "+u, 60*time.Second) {
		t.Errorf("tagged reply to the comment alias: no comment on ticket %d", ids["pipe"])
	}
	// A reply without a tag but with References to the LMTP mail: threaded
	// by the ledger into that ticket, as correspondence.
	lm := e.pf["POSTFIX_LMTP_ADDRESS"]
	e.send(from, lm, mail(from, lm, "Re: about that", u+"-r2@example.org",
		[]string{"In-Reply-To: <" + u + "-lmtp@example.org>", "References: <" + u + "-lmtp@example.org>"}, "reply by references "+u, nil))
	if !e.history(ids["lmtp"], "Correspond", "reply by references "+u, 60*time.Second) {
		t.Errorf("reply by References: no correspondence on ticket %d", ids["lmtp"])
	}

	// RT's own mail coming back, and an auto-reply: no ticket, both paths.
	for name, to := range paths {
		e.send(from, to, mail(from, to, u+" loop "+name, u+"-loop-"+name+"@example.org", []string{"X-RT-Loop-Prevention: example.com"}, "loop", nil))
		e.send(from, to, mail(from, to, u+" ooo "+name, u+"-ooo-"+name+"@example.org", []string{"Auto-Submitted: auto-replied"}, "away", nil))
	}
	// A mail sent after them arrives after them (one daemon, one RT writer
	// per source), so its ticket means they were handled.
	for name, to := range paths {
		e.send(from, to, mail(from, to, u+" last "+name, u+"-last-"+name+"@example.org", nil, "last", nil))
	}
	got = e.waitTickets(u+" last", 2, 60*time.Second)
	time.Sleep(2 * time.Second)
	for s := range e.tickets(u) {
		if strings.Contains(s, " loop ") || strings.Contains(s, " ooo ") {
			t.Errorf("ticket opened for %q", s)
		}
	}
	if len(got) != 2 {
		t.Errorf("last mails: %v", got)
	}
	if n := e.queued(); n != 0 {
		t.Errorf("%d mails still in Postfix's queue", n)
	}
	// The loops and auto-replies did arrive: the daemon ignored them, saying why.
	e.stop()
	st, err := store.Open(context.Background(), filepath.Join(e.dir, "state"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	evs, err := st.Recent(context.Background(), 1000)
	if err != nil {
		t.Fatal(err)
	}
	ignored := map[string]int{}
	for _, ev := range evs {
		if ev.State == store.StateIgnored {
			ignored[ev.Rule+"/"+ev.Meta[source.MetaVia]]++
		}
	}
	for _, k := range []string{"mail loop/mailgate", "mail loop/lmtp", "automatic mail/mailgate", "automatic mail/lmtp"} {
		if ignored[k] != 1 {
			t.Errorf("ignored events by rule/path: %v; want one %s", ignored, k)
		}
	}
}

// The daemon is down while 50 mails arrive (25 per path): Postfix keeps
// them (the mailgate exits 75, the LMTP socket is gone) and delivers them
// once the daemon is back: every mail becomes exactly one ticket.
func TestPostfixQueuesWhileDaemonDown(t *testing.T) {
	e := setup(t)
	u := tag("DOWN")
	const n = 50
	const from = "bob@example.org"
	for i := range n {
		to := e.pf["POSTFIX_PIPE_ADDRESS"]
		if i%2 == 1 {
			to = e.pf["POSTFIX_LMTP_ADDRESS"]
		}
		e.send(from, to, mail(from, to, fmt.Sprintf("%s n%02d", u, i), fmt.Sprintf("%s-%d@example.org", u, i), nil, "queued", nil))
	}
	// A mail moving back from deferred to active can be missed by one
	// listing; the count must settle at n.
	deadline := time.Now().Add(30 * time.Second)
	q := e.queued()
	for q != n && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
		q = e.queued()
	}
	if q != n {
		t.Fatalf("Postfix holds %d mails while the daemon is down, want %d", q, n)
	}
	if got := e.tickets(u); len(got) != 0 {
		t.Fatalf("tickets exist before the daemon runs: %v", got)
	}
	e.start()
	e.flush()
	got := e.waitTickets(u, n, 120*time.Second)
	lost, dups := 0, 0
	for i := range n {
		switch l := len(got[fmt.Sprintf("%s n%02d", u, i)]); {
		case l == 0:
			lost++
		case l > 1:
			dups += l - 1
		}
	}
	t.Logf("%d mails queued while the daemon was down: %d tickets, lost %d, duplicates %d", n, len(got), lost, dups)
	if lost != 0 || dups != 0 {
		t.Errorf("lost %d, duplicates %d", lost, dups)
	}
	for deadline := time.Now().Add(20 * time.Second); e.queued() > 0 && time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
	}
	if q := e.queued(); q != 0 {
		t.Errorf("%d mails left in Postfix's queue", q)
	}
}
