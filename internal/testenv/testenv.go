// Package testenv gives integration tests the addresses and credentials of the
// real servers that `make test` starts (RT, Dovecot, the KDC, …).
//
// Without RTBRIDGE_INTEGRATION=1 a test that needs a server is skipped with a
// message naming `make test`; with it, a missing server is a failure, so CI can
// never pass by skipping.
package testenv

import (
	"bufio"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// EnvFile is where test/servers/up.sh writes the KEY=VALUE lines of every
// server it started. Tests read it when the variables are not already set, so
// `go test ./pkg -run X` works after one `make servers`.
// RTBRIDGE_TEST_DIR overrides the folder.
func EnvFile() string {
	dir := os.Getenv("RTBRIDGE_TEST_DIR")
	if dir == "" {
		dir = "/tmp/rtbridge-test"
	}
	return filepath.Join(dir, "servers.env")
}

// Integration reports whether the test command asked for integration tests.
func Integration() bool { return os.Getenv("RTBRIDGE_INTEGRATION") == "1" }

// Lookup returns the value of a server variable from the environment or, failing
// that, from EnvFile.
func Lookup(key string) (string, bool) {
	if v, ok := os.LookupEnv(key); ok && v != "" {
		return v, true
	}
	f, err := os.Open(EnvFile())
	if err != nil {
		return "", false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), "=")
		v = strings.Trim(v, `"'`)
		if ok && k == key && v != "" {
			return v, true
		}
	}
	return "", false
}

// Require returns the named server variables. When one is missing it skips the
// test (plain `go test`) or fails it (under RTBRIDGE_INTEGRATION=1).
func Require(t testing.TB, keys ...string) map[string]string {
	t.Helper()
	vals := make(map[string]string, len(keys))
	var missing []string
	for _, k := range keys {
		v, ok := Lookup(k)
		if !ok {
			missing = append(missing, k)
			continue
		}
		vals[k] = v
	}
	if len(missing) == 0 {
		return vals
	}
	if Integration() {
		t.Fatalf("integration server missing: %s not set (test/servers/up.sh should have started it)", strings.Join(missing, ", "))
	}
	t.Skipf("integration test: needs %s; run `make test` (or `make servers` once, then go test)", strings.Join(missing, ", "))
	return nil
}

// RT holds the connection facts of the test RT.
type RT struct {
	URL      string // base URL, e.g. http://127.0.0.1:18080/
	User     string
	Password string
	Token    string
}

// RequireRT returns the test RT or skips/fails as Require does.
func RequireRT(t testing.TB) RT {
	t.Helper()
	v := Require(t, "RT_URL", "RT_USER", "RT_PASSWORD", "RT_TOKEN")
	return RT{URL: v["RT_URL"], User: v["RT_USER"], Password: v["RT_PASSWORD"], Token: v["RT_TOKEN"]}
}

// SharedDir returns ../shared (reference material, present in CI, absent in a
// fresh clone) and whether it exists.
func SharedDir() (string, bool) {
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	dir := filepath.Join(root, "..", "shared")
	if st, err := os.Stat(dir); err == nil && st.IsDir() {
		return dir, true
	}
	return "", false
}

// RepoRoot returns the repository's top directory.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}
