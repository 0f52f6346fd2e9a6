package daemon

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	krbclient "github.com/jcmturner/gokrb5/v8/client"
	krbconfig "github.com/jcmturner/gokrb5/v8/config"
	"github.com/jcmturner/gokrb5/v8/keytab"

	"github.com/rtbridge/rtbridge/internal/testenv"
)

// krbRealm is the test KDC as the rotation tests use it: its own principal
// per test (rtuser, shared with other tests, is never touched), changed
// with kadmin.local on the KDC's database.
type krbRealm struct {
	t   *testing.T
	env map[string]string
}

func newKrbRealm(t *testing.T) *krbRealm {
	return &krbRealm{t: t, env: testenv.Require(t, "RT_KRB_URL", "KRB5_CONFIG", "KRB5_KDC_PROFILE", "KRB_REALM", "KDC_LOG")}
}

// kadmin runs one kadmin.local query (as root, on the KDC's own files).
func (k *krbRealm) kadmin(q string) {
	k.t.Helper()
	cmd := exec.Command("kadmin.local", "-r", k.env["KRB_REALM"], "-q", q)
	cmd.Env = append(os.Environ(), "KRB5_CONFIG="+k.env["KRB5_CONFIG"], "KRB5_KDC_PROFILE="+k.env["KRB5_KDC_PROFILE"],
		"PATH="+os.Getenv("PATH")+":/usr/sbin:/sbin")
	out, err := cmd.CombinedOutput()
	if err != nil || strings.Contains(string(out), "kadmin.local: ") {
		k.t.Fatalf("kadmin.local %q: %v\n%s", q, err, out)
	}
}

// principal creates name in the KDC (addprinc args: -pw … or -randkey)
// and the RT user the SPNEGO front maps it to; the principal goes at the
// end of the test.
func (k *krbRealm) principal(rt testenv.RT, name, args string) {
	k.t.Helper()
	k.kadmin(fmt.Sprintf("addprinc %s %s", args, name))
	k.t.Cleanup(func() { k.kadmin("delprinc -force " + name) })
	rtAdmin(k.t, rt, "user/new", fmt.Sprintf("id: user/new\nName: %s\nEmailAddress: %s@bridge.test\nPrivileged: 1", name, name))
}

// loginFails reports whether the KDC refuses an AS exchange with these
// credentials (a keytab file, or a password when keytabFile is "").
func (k *krbRealm) loginFails(name, keytabFile, password string) bool {
	k.t.Helper()
	cfg, err := krbconfig.Load(k.env["KRB5_CONFIG"])
	if err != nil {
		k.t.Fatal(err)
	}
	var cl *krbclient.Client
	if keytabFile != "" {
		kt, err := keytab.Load(keytabFile)
		if err != nil {
			k.t.Fatal(err)
		}
		cl = krbclient.NewWithKeytab(name, k.env["KRB_REALM"], kt, cfg, krbclient.DisablePAFXFAST(true))
	} else {
		cl = krbclient.NewWithPassword(name, k.env["KRB_REALM"], password, cfg, krbclient.DisablePAFXFAST(true))
	}
	defer cl.Destroy()
	return cl.Login() != nil
}

// issued counts the KDC's log lines for name: TGTs issued, and AS
// exchanges refused for a wrong key.
func (k *krbRealm) issued(name string) (ok, refused int) {
	k.t.Helper()
	b, err := os.ReadFile(k.env["KDC_LOG"])
	if err != nil {
		k.t.Fatal(err)
	}
	who := fmt.Sprintf(" %s@%s for krbtgt/", name, k.env["KRB_REALM"])
	for _, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, "AS_REQ") && strings.Contains(l, who) {
			switch {
			case strings.Contains(l, "ISSUE:"):
				ok++
			case strings.Contains(l, "PREAUTH_FAILED"):
				refused++
			}
		}
	}
	return ok, refused
}

// A rotated Kerberos keytab and, separately, a rotated Kerberos password:
// the principal's key is changed in the KDC (the old key refused from then
// on) and the new secret put at the configured path, an event arrives,
// then a reload (SIGHUP): the daemon builds its RT client from the new
// secret, logs in to the KDC with it (seen in the KDC's log), and goes on
// creating tickets through the real SPNEGO front, with no restart and no
// lost event.
func TestReloadRotatesKerberosSecrets(t *testing.T) {
	rt := testenv.RequireRT(t)
	for _, mode := range []string{"keytab", "password"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel() // own principal, RT user, state and subjects
			k := newKrbRealm(t)
			dir := t.TempDir()
			name := fmt.Sprintf("rtbridge-krb-%s-%d", mode, time.Now().UnixNano())
			secretPath := filepath.Join(dir, "krb."+mode)
			pw1, pw2 := fmt.Sprintf("first-%d", time.Now().UnixNano()), fmt.Sprintf("second-%d", time.Now().UnixNano())
			credLine := "keytab_file: " + secretPath
			if mode == "keytab" {
				k.principal(rt, name, "-randkey")
				k.kadmin(fmt.Sprintf("ktadd -k %s %s", secretPath, name))
			} else {
				k.principal(rt, name, "-pw "+pw1)
				os.WriteFile(secretPath, []byte(pw1+"\n"), 0o600)
				credLine = "password_file: " + secretPath
			}
			os.WriteFile(filepath.Join(dir, "hook-token"), []byte("hook-secret\n"), 0o600)
			cfgPath := filepath.Join(dir, "config.yaml")
			os.WriteFile(cfgPath, []byte(fmt.Sprintf(`rt:
  url: %s
  auth: kerberos
  kerberos: { krb5_conf: %s, principal: %s, %s }
  idempotency_field: RTBridgeKey
  timeout: 10s
state: { dir: state }
log: { level: debug }
http: { listen: "127.0.0.1:0" }
webhooks:
  - { name: deploys, path: /hooks/deploy, auth: { bearer: { token_file: hook-token } } }
executor:
  backoff: { initial: 200ms, max: 1s }
  breaker: { failures: 100, open_for: 1s }
rules:
%s`, k.env["RT_KRB_URL"], k.env["KRB5_CONFIG"], name, credLine, createRule)), 0o600)
			r := start(t, cfgPath)
			c := rtClient(t, rt)
			run := fmt.Sprintf("krbrot-%s-%d", mode, time.Now().UnixNano())
			post, creator := numbered(t, r, c, run, 60*time.Second)
			post(1)
			if got := creator(1); got != name {
				t.Fatalf("ticket 1 created by %q, want %q", got, name)
			}

			// Rotate: a new random key written to a new keytab moved over
			// the old one, or a new password; the old secret stops working.
			old := secretPath + ".old"
			if mode == "keytab" {
				b, _ := os.ReadFile(secretPath)
				os.WriteFile(old, b, 0o600)
				k.kadmin(fmt.Sprintf("ktadd -k %s %s", secretPath+".new", name))
				if err := os.Rename(secretPath+".new", secretPath); err != nil {
					t.Fatal(err)
				}
				if !k.loginFails(name, old, "") {
					t.Fatal("the old keytab still logs in after the key change")
				}
			} else {
				k.kadmin(fmt.Sprintf("cpw -pw %s %s", pw2, name))
				if !k.loginFails(name, "", pw1) {
					t.Fatal("the old password still logs in after the change")
				}
				os.WriteFile(secretPath, []byte(pw2+"\n"), 0o600)
			}
			okBefore, refusedBefore := k.issued(name)
			// Event 2 arrives between the rotation and the reload.
			post(2)
			r.reload <- nil // SIGHUP
			waitFor(t, "the reload", r, func() bool { return strings.Contains(r.log.String(), "RT client rebuilt") })
			if got := creator(2); got != name {
				t.Fatalf("ticket 2 created by %q", got)
			}
			post(3)
			if got := creator(3); got != name {
				t.Fatalf("ticket 3 created by %q", got)
			}
			okAfter, refusedAfter := k.issued(name)
			t.Logf("KDC: %d TGTs for %s before the reload, %d after; %d refused logins before, %d after", okBefore, name, okAfter, refusedBefore, refusedAfter)
			if okAfter <= okBefore {
				t.Errorf("no TGT issued to %s after the reload: the daemon did not log in with the new %s", name, mode)
			}
			if refusedAfter != refusedBefore {
				t.Errorf("the KDC refused %d logins of %s after the reload: the old %s was used", refusedAfter-refusedBefore, name, mode)
			}
			l := r.log.String()
			if strings.Contains(l, pw1) || strings.Contains(l, pw2) || strings.Contains(l, "take effect only after a restart") {
				t.Errorf("reload log:\n%s", grepLines(l, "time="))
			}
			if got := countTickets(t, rt, run); len(got) != 3 || got[run+" 1"] != 1 || got[run+" 2"] != 1 || got[run+" 3"] != 1 {
				t.Errorf("tickets per subject: %v, want one for each of the 3 events; log:\n%s", got, tail(grepOut(l, "level=DEBUG"), 40))
			}
		})
	}
}
