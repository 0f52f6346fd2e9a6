package plan

import "testing"

func TestPlainAddress(t *testing.T) {
	for _, s := range []string{"alice@example.com", "a.b+tag@sub.example.org", "o'neil@x.example", "x_y-z@a-b.c", "ALICE@EXAMPLE.COM", "a@b"} {
		if !PlainAddress(s) {
			t.Errorf("%q refused", s)
		}
	}
	for _, s := range []string{"", "alice", "@example.com", "alice@", "a@b@c",
		"victim@target.example,x@attacker.example", `"victim@target.example,x"@attacker.example`,
		"g:victim@target.example;x@attacker.example", "group:Staff;x@attacker.example", "group:Staff", "root",
		"a b@example.com", " a@example.com", "a@example.com ", "a@ex ample.com", "<a@example.com>", "Alice <a@example.com>",
		".a@example.com", "a.@example.com", "a..b@example.com", "a@.example.com", "a@example..com", "a@example.com.",
		"a@exa_mple.com", "a@[127.0.0.1]", "a\n@example.com", "a@example.com\r\nCc: b@example.com", "ä@example.com", "a@exämple.com",
		"a\\b@example.com", "a(b)@example.com"} {
		if PlainAddress(s) {
			t.Errorf("%q accepted", s)
		}
	}
}
