package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rtbridge/rtbridge/internal/testenv"
)

// rt.auth: kerberos from a config file, through the daemon's client builder
// (daemon.NewRTClient / daemon.NewRT) and the SPNEGO front, on both APIs.
func TestRTCLIKerberosConfigBothAPIs(t *testing.T) {
	env := testenv.Require(t, "RT_KRB_URL", "KRB5_CONFIG", "KRB_USER", "KRB_USER_KEYTAB")
	cfg := filepath.Join(t.TempDir(), "config.yaml")
	yaml := fmt.Sprintf("rt:\n  url: %s\n  auth: kerberos\n  kerberos:\n    krb5_conf: %s\n    principal: %s\n    keytab_file: %s\n",
		env["RT_KRB_URL"], env["KRB5_CONFIG"], env["KRB_USER"], env["KRB_USER_KEYTAB"])
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, api := range []string{"rest1", "rest2"} {
		t.Run(api, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			var stdout, stderr bytes.Buffer
			path := "user/" + env["KRB_USER"]
			code := dispatch(ctx, []string{"rt", "--config", cfg, "--api", api, "get", path}, &stdout, &stderr)
			if code != 0 {
				t.Fatalf("exit %d: %s %s", code, stdout.String(), stderr.String())
			}
			if api == "rest1" {
				r := decodeResult(t, stdout.Bytes())
				if r.Status != 200 || len(r.Records) != 1 || field(r.Records[0], "Name") != env["KRB_USER"] {
					t.Errorf("REST 1.0: %s", stdout.String())
				}
				return
			}
			r, body := decodeREST2(t, stdout.Bytes())
			if r.Status != 200 || body["Name"] != env["KRB_USER"] {
				t.Errorf("REST2: %s", stdout.String())
			}
		})
	}
}
