package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestAdminListener(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "admin-token"), []byte("s3cret-admin\n"), 0o600)
	write := func(http string) string {
		p := filepath.Join(dir, "c.yaml")
		os.WriteFile(p, []byte("rt: {url: \"https://rt.example.com/\", auth: token, token: t}\nhttp:\n"+http), 0o600)
		return p
	}
	c, err := load(write("  admin_listen: 127.0.0.1:9180\n  admin_auth: {bearer: {token_file: admin-token}}\n"), testEnv, false)
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTP.AdminListen != "127.0.0.1:9180" || !c.HTTP.AdminGuarded() || string(c.HTTP.AdminAuth.Bearer.Token) != "s3cret-admin" {
		t.Errorf("decoded %+v", c.HTTP)
	}
	// Commands without secrets (status) get the file's path, made absolute.
	c, err = load(write("  admin_auth: {bearer: {token_file: admin-token}}\n"), testEnv, true)
	if err != nil || c.HTTP.AdminAuth.Bearer.Token != "" || c.HTTP.AdminAuth.Bearer.TokenFile != "admin-token" {
		t.Errorf("ops load: %v %+v", err, c.HTTP.AdminAuth.Bearer)
	}
	if c, err := load(write("  admin_auth: none\n"), testEnv, false); err != nil || c.HTTP.AdminGuarded() {
		t.Errorf("admin_auth none: %v", err)
	}
	for _, tc := range []struct{ http, want string }{
		{"  admin_listen: nonsense\n", "c.yaml:3:17: http.admin_listen: must be host:port"},
		{"  listen: 127.0.0.1:8080\n  admin_listen: 127.0.0.1:8080\n", "c.yaml:4:17: http.admin_listen: must differ from http.listen"},
		{"  admin_auth: {hmac: {secret: x}}\n", "c.yaml:3:22: http.admin_auth.hmac: signs request bodies"},
		{"  admin_auth: {bearer: {}}\n", "c.yaml:3:24: http.admin_auth.bearer: needs token or token_file"},
		{"  admin_auth: {basic: {username: u, password: p}, bearer: {token: t}}\n", "http.admin_auth: give only one of"},
		{"  admin_auth: {bearer: {token_file: missing}}\n", "http.admin_auth.bearer.token_file:"},
	} {
		_, err := load(write(tc.http), testEnv, false)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want %q", tc.http, err, tc.want)
		}
	}
}
