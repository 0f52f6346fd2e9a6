package daemon

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// BenchmarkIdleRSS starts the real binary (webhook endpoint, store, rules,
// executor; RT not contacted while idle) and reads its resident memory
// from /proc after it settled. Target: <= 25 MB.
func BenchmarkIdleRSS(b *testing.B) {
	dir := b.TempDir()
	ln := freePort(b)
	os.WriteFile(filepath.Join(dir, "rt-token"), []byte("unused\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "hook-token"), []byte("hook-secret\n"), 0o600)
	cfg := fmt.Sprintf(`rt: { url: "http://127.0.0.1:9/", auth: token, token_file: rt-token }
state: { dir: state }
http: { listen: %q }
webhooks:
  - { name: deploys, path: /hooks/deploy, auth: { bearer: { token_file: hook-token } } }
rules:
%s`, ln, createRule)
	path := filepath.Join(dir, "config.yaml")
	os.WriteFile(path, []byte(cfg), 0o600)
	var rss []float64
	for range b.N {
		p := startBinary(b, path, ln, filepath.Join(dir, "daemon.log"))
		time.Sleep(3 * time.Second)
		kb, err := vmRSS(p.cmd.Process.Pid)
		if err != nil {
			b.Fatal(err)
		}
		rss = append(rss, float64(kb)/1024)
		p.kill()
	}
	b.ReportMetric(rss[len(rss)-1], "idle-RSS-MB")
	b.Logf("idle RSS %.1f MB (target <= 25 MB)", rss[len(rss)-1])
}

func vmRSS(pid int) (int, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			return strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
		}
	}
	return 0, fmt.Errorf("no VmRSS for pid %d", pid)
}
