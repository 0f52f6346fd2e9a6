package plan_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/rtbridge/rtbridge/"

// The layers point one way: the planner's packages (rules and its
// subpackages, plan, event) import nothing of bridge/ and not the RT
// client, so a planning decision can depend only on the event and the
// facts handed in. Read from `go list -deps`, as the build sees it.
func TestPlannerLayerImportsNoBridgeNorRT(t *testing.T) {
	for pkg, deps := range listDeps(t, "../rules/...", "../plan", "../event") {
		for _, d := range deps {
			if strings.HasPrefix(d, module+"bridge/") || d == module+"rtapi" || strings.HasPrefix(d, module+"rtapi/") {
				t.Errorf("%s depends on %s", pkg, d)
			}
		}
	}
}

// The executor talks to RT; the daemon wires everything: nothing below
// imports them back.
func TestNoImportReachesUp(t *testing.T) {
	up := map[string][]string{
		module + "bridge/executor": {module + "bridge/daemon", module + "cmd/rtbridge"},
		module + "bridge/store":    {module + "bridge/executor", module + "bridge/daemon", module + "rules"},
		module + "bridge/mailflow": {module + "bridge/executor", module + "bridge/daemon"},
	}
	for pkg, deps := range listDeps(t, "../bridge/executor", "../bridge/store", "../bridge/mailflow") {
		for _, d := range deps {
			for _, bad := range up[pkg] {
				if d == bad {
					t.Errorf("%s depends on %s", pkg, d)
				}
			}
		}
	}
}

// listDeps maps each package of patterns to its (non-test) dependencies.
func listDeps(t *testing.T, patterns ...string) map[string][]string {
	t.Helper()
	out, err := exec.Command("go", append([]string{"list", "-json=ImportPath,Deps"}, patterns...)...).Output()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		t.Fatalf("go list: %v\n%s", err, ee.Stderr)
	}
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	m := map[string][]string{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p struct {
			ImportPath string
			Deps       []string
		}
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		m[p.ImportPath] = p.Deps
	}
	if len(m) < len(patterns) {
		t.Fatalf("go list found %d packages for %v", len(m), patterns)
	}
	return m
}
