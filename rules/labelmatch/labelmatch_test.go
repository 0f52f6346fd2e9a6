package labelmatch

import "testing"

func TestParse(t *testing.T) {
	ms, err := Parse(`{alertname=~"Disk.*", severity=critical, "odd name"!="x \"y\""}`)
	if err != nil || len(ms) != 3 {
		t.Fatalf("%v %v", ms, err)
	}
	if m := ms[0]; m.Name != "alertname" || m.Op != "=~" || m.Regexp().MatchString("xDisk") || !m.Regexp().MatchString("DiskFull") {
		t.Fatalf("regex matcher %+v: want anchored", m)
	}
	if m := ms[1]; m.Op != "=" || m.Value != "critical" || m.Regexp() != nil {
		t.Fatalf("bare value %+v", m)
	}
	if m := ms[2]; m.Name != "odd name" || m.Value != `x "y"` || m.String() != `"odd name"!="x \"y\""` {
		t.Fatalf("quoted %+v %s", m, m.String())
	}
	for _, bad := range []string{"", "{a=b", `a=~"(("`, `a b`, `a="x`, `a=x"y`} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{`a="b"`, `{a=~"x.*", b!="c"}`, `a!~"(("`, `"utf8 name"=v`, `a=b,c=d`, `a="\"q\""`, `{`, `a=`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ms, err := Parse(s)
		if err != nil {
			return
		}
		for _, m := range ms {
			// A parsed matcher prints in a form that parses back to itself.
			again, err := Parse(m.String())
			if err != nil || len(again) != 1 || again[0].Name != m.Name || again[0].Op != m.Op || again[0].Value != m.Value {
				t.Fatalf("%q → %q does not round-trip: %v", s, m.String(), err)
			}
		}
	})
}
