package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/rtbridge/rtbridge/internal/testenv"
)

// TestDocsUnitSecurityRating: the exposure the manual says `systemd-analyze
// security` gives the unit ("rates it 1.2 OK") is what systemd-analyze
// computes for systemd/rtbridge.service now, so hardening changes cannot
// leave a stale figure.
func TestDocsUnitSecurityRating(t *testing.T) {
	sa, err := exec.LookPath("systemd-analyze")
	if err != nil {
		if testenv.Integration() {
			t.Fatal("systemd-analyze not found (Debian package systemd)")
		}
		t.Skip("systemd-analyze not found; run make test on Debian")
	}
	root, docs := manual(t)
	out, err := exec.Command(sa, "security", "--offline=yes", filepath.Join(root, "systemd", "rtbridge.service")).CombinedOutput()
	if err != nil {
		t.Fatalf("systemd-analyze security: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`Overall exposure level for rtbridge.service: ([0-9.]+ [A-Z]+)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("systemd-analyze security printed no exposure level:\n%s", out)
	}
	n := 0
	for _, d := range docs {
		b, err := os.ReadFile(filepath.Join(root, d.Path))
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range regexp.MustCompile(`rates it \**([0-9.]+ [A-Z]+)`).FindAllSubmatch(b, -1) {
			n++
			if string(r[1]) != string(m[1]) {
				t.Errorf("%s says systemd-analyze security rates the unit %s; it rates it %s", d.Path, r[1], m[1])
			}
		}
	}
	if n == 0 {
		t.Fatal("the manual gives no systemd-analyze security rating")
	}
}
