package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/rtbridge/rtbridge/internal/testenv"
)

// TestVersionAgrees: the VERSION file is what CHANGELOG.md's top entry
// names, what the package is built as (packaging/nfpm.yaml takes it from
// the Makefile) and what `make build` stamps into the binary, where
// `rtbridge version` and rtbridge_build_info read it
// (TestVersionAgreesWithBuildInfo); packaging/check-deb.sh checks the
// installed binary says the package's version. README's Go version is
// go.mod's.
func TestVersionAgrees(t *testing.T) {
	root := testenv.RepoRoot()
	read := func(p string) string {
		b, err := os.ReadFile(filepath.Join(root, p))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	v := strings.TrimSpace(read("VERSION"))
	if !regexp.MustCompile(`^[0-9]+\.[0-9]+\.[0-9]+$`).MatchString(v) {
		t.Fatalf("VERSION %q is not MAJOR.MINOR.PATCH", v)
	}
	top := regexp.MustCompile(`(?m)^## (\S+)`).FindStringSubmatch(read("CHANGELOG.md"))
	if top == nil || top[1] != v {
		t.Errorf("CHANGELOG.md's top entry is %v, VERSION says %s", top, v)
	}
	if !regexp.MustCompile(`(?m)^version: \$\{VERSION\}$`).MatchString(read("packaging/nfpm.yaml")) {
		t.Error("packaging/nfpm.yaml does not take its version from VERSION")
	}
	// The Go version README asks for is go.mod's.
	gover := regexp.MustCompile(`(?m)^go (\S+)$`).FindStringSubmatch(read("go.mod"))
	if gover == nil {
		t.Fatal("go.mod has no go line")
	}
	for _, m := range regexp.MustCompile(`Go\s+(1\.[0-9]+\.[0-9]+)(\s+to\b)?`).FindAllStringSubmatch(read("README.md"), -1) {
		if m[2] == "" && m[1] != gover[1] { // "Go 1.26.0 to 1.26.7 refuse": the versions that do not build
			t.Errorf("README says Go %s; go.mod says go %s", m[1], gover[1])
		}
	}
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("no make to read the build's flags from")
	}
	// What make build and make deb would run, without running them.
	out, err := exec.Command("make", "-C", root, "-n", "-s", "build", "deb").CombinedOutput()
	if err != nil {
		t.Fatalf("make -n build deb: %v\n%s", err, out)
	}
	for _, want := range []string{"-X github.com/prometheus/common/version.Version=" + v + " ", "VERSION=" + v + " "} {
		if !strings.Contains(string(out), want) {
			t.Errorf("make build/deb do not pass %q:\n%s", want, out)
		}
	}
}
