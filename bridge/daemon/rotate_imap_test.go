package daemon

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/rtbridge/rtbridge/bridge/store"
	"github.com/rtbridge/rtbridge/internal/testenv"
)

// privateDovecot starts a Dovecot of the test's own with the project's
// script (its password can be changed without disturbing other tests) and
// returns the facts the script printed.
func privateDovecot(t *testing.T, users string) map[string]string {
	t.Helper()
	testenv.Require(t, "IMAP_CONF")            // Dovecot is installed (skip or fail like the others)
	dir, err := os.MkdirTemp("/tmp", "rtbrot") // socket paths are limited to 108 bytes
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o755) // readable by the mail user Dovecot drops to
	port, tlsPort := portOf(freePort(t)), portOf(freePort(t))
	run := func(name string) []byte {
		logFile := filepath.Join(dir, name+".log")
		script := filepath.Join(testenv.RepoRoot(), "test", "servers", "imap", name)
		// Output to a file: Dovecot keeps inherited pipes open.
		cmd := exec.Command("bash", "-c", fmt.Sprintf("bash %s >%s 2>&1 </dev/null", script, logFile))
		cmd.Env = append(os.Environ(), "IMAP_DIR="+dir, "IMAP_PORT="+port, "IMAPS_PORT="+tlsPort, "IMAP_USERS="+users, "IMAP_INSTALL=0")
		err := cmd.Run()
		out, _ := os.ReadFile(logFile)
		if err != nil {
			t.Fatalf("%s: %v\n%s", name, err, out)
		}
		return out
	}
	out := run("start-imap.sh")
	t.Cleanup(func() { run("stop-imap.sh"); os.RemoveAll(dir) })
	env := map[string]string{"IMAP_DIR": dir}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok && !strings.ContainsAny(k, " \t") {
			env[k] = strings.Trim(v, `"'`)
		}
	}
	for _, k := range []string{"IMAP_HOST", "IMAP_PORT", "IMAP_USER", "IMAP_CA_CERT", "IMAP_CONF"} {
		if env[k] == "" {
			t.Fatalf("start-imap.sh printed no %s:\n%s", k, out)
		}
	}
	return env
}

func portOf(addr string) string { _, p, _ := net.SplitHostPort(addr); return p }

// appendMail logs in with password and appends one message to INBOX.
func appendMail(t *testing.T, env map[string]string, password, subject string) {
	t.Helper()
	c, err := imapclient.DialInsecure(net.JoinHostPort(env["IMAP_HOST"], env["IMAP_PORT"]), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login(env["IMAP_USER"], password).Wait(); err != nil {
		t.Fatalf("login: %v", err)
	}
	raw := fmt.Sprintf("From: alice@example.org\r\nTo: help@example.org\r\nSubject: %s\r\nMessage-ID: <%s@example.org>\r\n\r\nbody\r\n", subject, subject)
	cmd := c.Append("INBOX", int64(len(raw)), &imap.AppendOptions{})
	cmd.Write([]byte(raw))
	cmd.Close()
	if _, err := cmd.Wait(); err != nil {
		t.Fatalf("append: %v", err)
	}
}

// A rotated IMAP password: changed in Dovecot (its sessions kicked, the
// old password refused) and in the secret file, then a reload: the source
// logs in with the new one and takes the mail that arrived meanwhile, no
// restart.
func TestReloadRotatesIMAPPassword(t *testing.T) {
	t.Parallel()
	pw1, pw2 := fmt.Sprintf("first%d", time.Now().UnixNano()), fmt.Sprintf("second%d", time.Now().UnixNano())
	env := privateDovecot(t, "bridge:"+pw1)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "imap-password"), []byte(pw1+"\n"), 0o600)
	cfgPath := filepath.Join(dir, "config.yaml")
	os.WriteFile(cfgPath, []byte(fmt.Sprintf(`rt: { url: "http://127.0.0.1:9/", auth: token, token: unused }
state: { dir: state }
http: { listen: "127.0.0.1:0" }
imap:
  - name: mailbox
    address: %s:%s
    tls: starttls
    ca_file: %s
    server_name: localhost
    username: %s
    password_file: imap-password
    poll_interval: 1s
    idle: false
rules:
  - name: mail noted
    when: { kind: mail }
    do: [ { ignore: noted } ]
`, env["IMAP_HOST"], env["IMAP_PORT"], env["IMAP_CA_CERT"], env["IMAP_USER"])), 0o600)
	r := start(t, cfgPath)
	subjects := func() map[string]bool {
		ro, err := store.OpenReadOnly(context.Background(), filepath.Join(dir, "state"))
		if err != nil {
			return nil
		}
		defer ro.Close()
		evs, _ := ro.Recent(context.Background(), 100)
		out := map[string]bool{}
		for _, e := range evs {
			out[e.Meta["subject"]] = true
			out[e.DedupKey] = true
		}
		return out
	}
	has := func(what string) func() bool {
		return func() bool {
			for k := range subjects() {
				if strings.Contains(k, what) {
					return true
				}
			}
			return false
		}
	}
	appendMail(t, env, pw1, "before-rotation")
	waitFor(t, "the first mail", r, has("before-rotation"))

	users := filepath.Join(env["IMAP_DIR"], "users")
	b, err := os.ReadFile(users)
	if err != nil {
		t.Fatal(err)
	}
	nb := bytes.ReplaceAll(b, []byte("{PLAIN}"+pw1+":"), []byte("{PLAIN}"+pw2+":"))
	if bytes.Equal(nb, b) {
		t.Fatalf("password not found in %s", users)
	}
	// Dovecot re-reads the file when its mtime changes (in seconds).
	time.Sleep(1100 * time.Millisecond)
	os.WriteFile(users, nb, 0o640)
	if out, err := exec.Command("doveadm", "-c", env["IMAP_CONF"], "kick", env["IMAP_USER"]).CombinedOutput(); err != nil {
		t.Fatalf("doveadm kick: %v\n%s", err, out)
	}
	appendMail(t, env, pw2, "during-rotation")
	waitFor(t, "the old password refused", r, func() bool { return strings.Contains(r.log.String(), "imap login rejected") })
	if has("during-rotation")() {
		t.Fatal("mail taken with the old password")
	}
	os.WriteFile(filepath.Join(dir, "imap-password"), []byte(pw2+"\n"), 0o600)
	r.reload <- nil // SIGHUP
	waitFor(t, "the mail after the rotation", r, has("during-rotation"))
	appendMail(t, env, pw2, "after-rotation")
	waitFor(t, "the next mail", r, has("after-rotation"))
	if l := r.log.String(); strings.Contains(l, pw1) || strings.Contains(l, pw2) || strings.Contains(l, "take effect only after a restart") {
		t.Errorf("log:\n%s", l)
	}
}
