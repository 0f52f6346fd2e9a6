package imapsource

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rtbridge/rtbridge/internal/testenv"
)

// privateDovecot is a Dovecot instance of one test's own, started with the
// project's script on free loopback ports, for tests that stop or restart
// the server: doing that to the shared instance would break the other
// packages' tests running in parallel.
type privateDovecot struct {
	dir, port, tlsPort string
	env                map[string]string
}

// newPrivateDovecot starts a private Dovecot and returns a test folder on it.
func newPrivateDovecot(t *testing.T) *dovecot {
	t.Helper()
	// The shared server's presence says Dovecot is installed; without it the
	// test skips (plain go test) or fails (make test) like the others.
	testenv.Require(t, "IMAP_CONF")
	// Dovecot's socket paths are limited to 108 bytes: keep the directory
	// short, and readable by the mail user Dovecot drops to as root.
	dir, err := os.MkdirTemp("/tmp", "rtbimap")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	p := &privateDovecot{dir: dir, port: freePort(t), tlsPort: freePort(t)}
	p.start(t)
	t.Cleanup(func() {
		p.stop(t)
		os.RemoveAll(dir)
	})
	d := &dovecot{t: t, env: p.env, private: p, folder: fmt.Sprintf("t-%d", time.Now().UnixNano())}
	d.connectAdmin()
	if err := d.admin.Create(d.folder, nil).Wait(); err != nil {
		t.Fatalf("create folder: %v", err)
	}
	t.Cleanup(func() { d.admin.Close() })
	return d
}

func (p *privateDovecot) script(name string) string {
	return filepath.Join(testenv.RepoRoot(), "test", "servers", "imap", name)
}

func (p *privateDovecot) run(t *testing.T, name string) []byte {
	t.Helper()
	// Output goes to a file: Dovecot keeps inherited pipes open, and
	// Output() would wait for them forever.
	logFile := filepath.Join(p.dir, name+".log")
	cmd := exec.Command("bash", "-c", fmt.Sprintf("bash %s >%s 2>&1 </dev/null", p.script(name), logFile))
	cmd.Env = append(os.Environ(), "IMAP_DIR="+p.dir, "IMAP_PORT="+p.port, "IMAPS_PORT="+p.tlsPort,
		"IMAP_USERS=bridge:secret", "IMAP_INSTALL=0")
	err := cmd.Run()
	out, _ := os.ReadFile(logFile)
	if err != nil {
		t.Fatalf("%s: %v\n%s", name, err, out)
	}
	return out
}

func (p *privateDovecot) start(t *testing.T) {
	t.Helper()
	out := p.run(t, "start-imap.sh")
	env := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok && !strings.ContainsAny(k, " \t") {
			env[k] = strings.Trim(v, `"'`)
		}
	}
	for _, k := range []string{"IMAP_HOST", "IMAP_PORT", "IMAPS_PORT", "IMAP_USER", "IMAP_PASSWORD", "IMAP_CA_CERT", "IMAP_CONF"} {
		if env[k] == "" {
			t.Fatalf("private dovecot: start-imap.sh printed no %s:\n%s", k, out)
		}
	}
	p.env = env
}

func (p *privateDovecot) stop(t *testing.T) {
	t.Helper()
	p.run(t, "stop-imap.sh")
}

// freePort asks the kernel for a free loopback port.
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}
