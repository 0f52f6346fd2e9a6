package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/common/version"

	"github.com/rtbridge/rtbridge/bridge/metrics"
)

// TestVersionAgreesWithBuildInfo: `rtbridge version`, `--version` and
// rtbridge_build_info name the same version and revision.
func TestVersionAgreesWithBuildInfo(t *testing.T) {
	stampVersion()
	var text, js, errb bytes.Buffer
	if code := dispatch(context.Background(), []string{"--version"}, &text, &errb); code != 0 {
		t.Fatalf("--version exit %d: %s", code, errb.String())
	}
	for _, want := range []string{"rtbridge, version " + version.Version, "revision: " + version.GetRevision(), "build date:", "go version:       go1."} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("--version output lacks %q:\n%s", want, text.String())
		}
	}
	if code := dispatch(context.Background(), []string{"version", "--json"}, &js, &errb); code != 0 {
		t.Fatalf("version --json exit %d: %s", code, errb.String())
	}
	var v map[string]string
	if err := json.Unmarshal(js.Bytes(), &v); err != nil {
		t.Fatalf("version --json: %v\n%s", err, js.String())
	}
	rec := httptest.NewRecorder()
	metrics.New().Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	var info string
	for _, l := range strings.Split(rec.Body.String(), "\n") {
		if strings.HasPrefix(l, "rtbridge_build_info{") {
			info = l
		}
	}
	for _, want := range []string{`version="` + v["version"] + `"`, `revision="` + v["revision"] + `"`, `goversion="` + v["go_version"] + `"`} {
		if !strings.Contains(info, want) {
			t.Errorf("build_info %q lacks %s", info, want)
		}
	}
}
