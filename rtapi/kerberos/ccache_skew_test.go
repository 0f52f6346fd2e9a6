package kerberos_test

import (
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/rtbridge/rtbridge/internal/testenv"
	"github.com/rtbridge/rtbridge/rtapi/kerberos"
)

// kinit's credential cache, as k5start or an operator's kinit leaves it:
// the authenticator reads it and creates tickets as the Kerberos user.
func TestCredentialCacheFromKinit(t *testing.T) {
	env := krb(t)
	kinit, err := exec.LookPath("kinit")
	if err != nil {
		t.Fatalf("kinit not installed (test/servers/kerberos/start-kdc.sh installs krb5-user): %v", err)
	}
	cc := filepath.Join(t.TempDir(), "krb5cc")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, kinit, "-c", "FILE:"+cc, env["KRB_USER"]+"@"+env["KRB_REALM"])
	cmd.Env = append(os.Environ(), "KRB5_CONFIG="+env["KRB5_CONFIG"])
	cmd.Stdin = strings.NewReader(env["KRB_USER_PASSWORD"] + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("kinit: %v\n%s", err, out)
	}
	a, err := kerberos.New(kerberos.Config{Krb5Conf: env["KRB5_CONFIG"], CCache: "FILE:" + cc}, env["RT_KRB_URL"])
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if a.Principal() != env["KRB_USER"]+"@"+env["KRB_REALM"] && a.Principal() != env["KRB_USER"] {
		t.Errorf("principal from the ccache = %q", a.Principal())
	}
	createAs(t, a, env["KRB_USER"])
}

// A KDC whose clock runs an hour ahead (libfaketime) refuses the
// pre-authentication timestamp with KRB_AP_ERR_SKEW: the login error is the
// typed clock-skew error. The second KDC serves the same database on another
// loopback port; the shared KDC is left alone.
func TestClockSkewAgainstSkewedKDC(t *testing.T) {
	env := testenvKDC(t)
	// libfaketime preloaded into krb5kdc itself: the faketime wrapper would
	// fork, and killing it would leave the KDC running.
	lib := "/usr/lib/" + multiarch() + "/faketime/libfaketime.so.1"
	if _, err := os.Stat(lib); err != nil {
		t.Fatalf("libfaketime not installed (test/servers/kerberos/start-kdc.sh installs faketime): %v", err)
	}
	kdcBin := "/usr/sbin/krb5kdc"
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	rewrite := func(src, name string) string {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		s := strings.ReplaceAll(string(b), env["KDC_ADDR"], addr)
		s = strings.ReplaceAll(s, filepath.Dir(src)+"/kdc.log", filepath.Join(dir, "kdc.log"))
		s = strings.ReplaceAll(s, filepath.Dir(src)+"/kadmind.log", filepath.Join(dir, "kadmind.log"))
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	kdcConf := rewrite(env["KRB5_KDC_PROFILE"], "kdc.conf")
	krbConf := rewrite(env["KRB5_CONFIG"], "krb5.conf")

	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, kdcBin, "-n", "-r", env["KRB_REALM"], "-P", filepath.Join(dir, "kdc.pid"))
	cmd.Env = append(os.Environ(), "LD_PRELOAD="+lib, "FAKETIME=+1h", "KRB5_KDC_PROFILE="+kdcConf, "KRB5_CONFIG="+krbConf)
	outFile, err := os.Create(filepath.Join(dir, "kdc.out"))
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	defer outFile.Close()
	cmd.Stdout, cmd.Stderr = outFile, outFile
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); _ = cmd.Wait() })
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(dir, "kdc.log"))
			out, _ := os.ReadFile(filepath.Join(dir, "kdc.out"))
			t.Fatalf("skewed KDC not listening on %s: %v\n%s\n%s", addr, err, out, log)
		}
		time.Sleep(50 * time.Millisecond)
	}

	err = loginErr(t, kerberos.Config{Krb5Conf: krbConf, Principal: env["KRB_USER"], Password: env["KRB_USER_PASSWORD"]}, env["RT_KRB_URL"])
	if !errors.Is(err, kerberos.ErrClockSkew) {
		log, _ := os.ReadFile(filepath.Join(dir, "kdc.log"))
		t.Fatalf("login against a KDC one hour ahead: %v, want ErrClockSkew\nKDC log:\n%s", err, log)
	}
	t.Logf("%v", err)
}

// testenvKDC adds the KDC profile to krb's facts.
func testenvKDC(t *testing.T) map[string]string {
	env := krb(t)
	for k, v := range testenv.Require(t, "KRB5_KDC_PROFILE") {
		env[k] = v
	}
	return env
}

// multiarch is Debian's library directory name for this machine.
func multiarch() string {
	if runtime.GOARCH == "arm64" {
		return "aarch64-linux-gnu"
	}
	return "x86_64-linux-gnu"
}
