package notify

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rtbridge/rtbridge/internal/testenv"
)

func readUnit(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "systemd", "rtbridge.service"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// The unit asks for what the daemon implements (notify, watchdog, reload by
// SIGHUP, credentials) and keeps its hardening.
func TestUnitDirectives(t *testing.T) {
	unit := readUnit(t)
	for _, want := range []string{
		"Type=notify", "NotifyAccess=main", "WatchdogSec=", "ExecReload=/bin/kill -HUP $MAINPID",
		"StateDirectory=rtbridge", "ConfigurationDirectory=rtbridge", "LoadCredential=", "DynamicUser=yes",
		"ProtectSystem=strict", "NoNewPrivileges=yes", "PrivateTmp=yes", "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX",
		"CapabilityBoundingSet=\n", "SystemCallFilter=@system-service", "ProtectHome=yes", "PrivateDevices=yes",
		"ProtectKernelTunables=yes", "ProtectKernelModules=yes", "ProtectKernelLogs=yes", "LockPersonality=yes",
		"MemoryDenyWriteExecute=yes", "RestrictNamespaces=yes",
	} {
		if !strings.Contains(unit, want) {
			t.Errorf("unit lacks %q", want)
		}
	}
}

// systemd-analyze verify accepts the unit (with ExecStart pointing at an
// executable that exists here) and its security exposure stays low.
func TestUnitVerify(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		if testenv.Integration() {
			t.Fatal("systemd-analyze not installed (apt-get install systemd)")
		}
		t.Skip("systemd-analyze not installed")
	}
	path := filepath.Join(t.TempDir(), "rtbridge.service")
	unit := strings.ReplaceAll(readUnit(t), "/usr/local/bin/rtbridge", "/bin/true")
	if err := os.WriteFile(path, []byte(unit), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(analyze, "verify", path).CombinedOutput()
	if err != nil {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if strings.Contains(line, "rtbridge.service") {
			t.Errorf("verify complains: %s", line)
		}
	}
	out, err = exec.Command(analyze, "security", "--offline=true", path).CombinedOutput()
	if err != nil {
		t.Fatalf("systemd-analyze security: %v\n%s", err, out)
	}
	i := strings.Index(string(out), "Overall exposure level for rtbridge.service: ")
	if i < 0 {
		t.Fatalf("no exposure line:\n%s", out)
	}
	level := strings.Fields(string(out)[i+len("Overall exposure level for rtbridge.service: "):])[0]
	t.Logf("systemd-analyze security exposure: %s", level)
	if level > "2.0" || len(level) != 3 {
		t.Errorf("exposure %s, want at most 2.0", level)
	}
}
