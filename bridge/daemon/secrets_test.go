package daemon

import (
	"reflect"
	"testing"

	"github.com/rtbridge/rtbridge/bridge/config"
)

// A rotated Kerberos password needs no restart; a changed principal does.
// The loaded config keeps its password.
func TestRestartNeededIgnoresKerberosPassword(t *testing.T) {
	cfg := func(principal string, pw config.Secret) *config.Config {
		return &config.Config{RT: config.RT{Auth: "kerberos", Kerberos: &config.Kerberos{Principal: principal, PasswordFile: "/run/pw", Password: pw}}}
	}
	old, cur := cfg("bridge", "one"), cfg("bridge", "two")
	if got := restartNeeded(old, cur); len(got) != 0 {
		t.Errorf("only the password changed: restart needed for %v", got)
	}
	if cur.RT.Kerberos.Password != "two" {
		t.Errorf("rtSettings changed the loaded password to %q", cur.RT.Kerberos.Password)
	}
	if got := restartNeeded(old, cfg("other", "one")); !reflect.DeepEqual(got, []string{"rt"}) {
		t.Errorf("principal changed: restart needed for %v, want [rt]", got)
	}
}
