package form

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

func TestEncodeExact(t *testing.T) {
	f := Form{
		{"id", "ticket/new"},
		{"Queue", "General"},
		{"Subject", "Printer on fire"},
		{"Cc", ""},
		{"CF.{Severity}", "High"},
		{"Text", "    indented first line\n    second"},
		{"CF.{Note}", "a}: b"},
		{"Action", "comment"},
	}
	got, err := f.Encode()
	if err != nil {
		t.Fatal(err)
	}
	want := "id: ticket/new\nQueue: General\nSubject: Printer on fire\nCc:\nCF.{Severity}: High\n" +
		"Text:\n \n     indented first line\n     second\n" +
		"CF.{Note}:\n \n a}: b\n" +
		"Action: comment\n"
	if string(got) != want {
		t.Errorf("Encode =\n%q\nwant\n%q", got, want)
	}
	var buf bytes.Buffer
	if n, err := f.WriteTo(&buf); err != nil || n != int64(len(want)) || buf.String() != want {
		t.Errorf("WriteTo = %d, %v", n, err)
	}
}

// The values an attacker controls (a mail subject, an alert label) cannot
// add a field, a record separator or a comment.
func TestEncodeNoInjection(t *testing.T) {
	evil := []string{
		"x\nQueue: Admin",
		"x\r\nOwner: root",
		"x\rStatus: resolved",
		"x\n--\nid: ticket/1",
		"x\n# comment",
		"\nQueue: Admin",
		" Queue: Admin",
		"x\n\n\nAdminCc: evil@example.com\n",
	}
	for _, v := range evil {
		f := Form{{"Subject", v}, {"Queue", "General"}}
		b, err := f.Encode()
		if err != nil {
			t.Fatal(err)
		}
		recs := ParseRecords(string(b))
		if len(recs) != 1 || len(recs[0].Fields) != 2 || len(recs[0].Comments) != 0 {
			t.Fatalf("value %q injected: %q → %+v", v, b, recs)
		}
		if q, _ := recs[0].Get("Queue"); q != "General" {
			t.Errorf("Queue = %q", q)
		}
		if s, _ := recs[0].Get("Subject"); s != normalise(v) {
			t.Errorf("Subject = %q, want %q", s, normalise(v))
		}
	}
}

func TestEncodeRejectsKeys(t *testing.T) {
	for _, k := range []string{"", "1id", "Sub ject", "Subject:", "Queue\nOwner", "CF.{}", "CF.{a,b}", "CF.{a}b}", "CF.{a\nb}", "Ünïcode", "CF-My Field", "x:y"} {
		if _, err := (Form{{k, "v"}}).Encode(); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("key %q: err = %v", k, err)
		}
	}
	for _, k := range []string{"id", "Content-Type", "CF.{Sévérité: a b/c (d)}", "cf.{x}", "TimeWorked", "a_b-c"} {
		if err := ValidKey(k); err != nil {
			t.Errorf("key %q: %v", k, err)
		}
	}
	if k, err := CFKey("Tags"); err != nil || k != "CF.{Tags}" {
		t.Errorf("CFKey = %q, %v", k, err)
	}
	if _, err := CFKey("a}b"); !errors.Is(err, ErrInvalidKey) {
		t.Errorf("CFKey(a}b) = %v", err)
	}
}

func TestSingleLine(t *testing.T) {
	for in, want := range map[string]string{
		"a\r\nb":               "a b",
		"  lead\ttab\x00nul  ": "lead tab nul",
		"x\u2028y\u0085z":      "x y z",
		"plain":                "plain",
		"\n\n":                 "",
	} {
		if got := SingleLine(in); got != want {
			t.Errorf("SingleLine(%q) = %q, want %q", in, got, want)
		}
	}
}

// normalise is the documented difference between a value sent and the value
// RT stores: CRLF and CR become LF; a multi-line value loses its leading
// blank lines.
func normalise(v string) string {
	v = strings.ReplaceAll(strings.ReplaceAll(v, "\r\n", "\n"), "\r", "\n")
	return strings.TrimLeft(v, "\n")
}

func checkRoundTrip(t *testing.T, f Form) {
	t.Helper()
	b, err := f.Encode()
	if err != nil {
		t.Fatalf("Encode(%q): %v", f, err)
	}
	recs := ParseRecords(string(b))
	var got []Field
	if len(recs) == 1 {
		got = recs[0].Fields
		if len(recs[0].Comments)+len(recs[0].Lines) != 0 {
			t.Fatalf("form %q encoded as %q has comments/lines %+v", f, b, recs[0])
		}
	} else if len(recs) > 1 {
		t.Fatalf("form %q encoded as %q parsed into %d records", f, b, len(recs))
	}
	want := make([]Field, len(f))
	for i, fl := range f {
		want[i] = Field{fl.Key, normalise(fl.Value)}
	}
	if len(want) == 0 {
		want = nil
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("round trip of %q via %q:\n got %q\nwant %q", f, b, got, want)
	}
}

// alphabet favours the characters that matter to RT's grammar.
var alphabet = []string{"a", "Z", " ", "  ", "\t", "\n", "\r", "\r\n", ":", ": ", "#", "--", "-", ",", "}", "{", "'", "\"", "\\",
	"é", "\u00a0", "\u2028", "\u3000", "\x00", "\x0b", "\x0c", "Queue: x", "\n--\n", "\n# c\n", ">> "}

func randValue(r *rand.Rand) string {
	var b strings.Builder
	for n := r.IntN(12); n > 0; n-- {
		b.WriteString(alphabet[r.IntN(len(alphabet))])
	}
	return b.String()
}

var keys = []string{"Subject", "Text", "id", "CF.{Sev}", "CF.{a: b (c)/d}", "Content-Type", "x_y", "Requestor", "Text"}

func TestRoundTripProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 20000; i++ {
		var f Form
		for n := r.IntN(5); n > 0; n-- {
			f.Add(keys[r.IntN(len(keys))], randValue(r))
		}
		checkRoundTrip(t, f)
	}
}

func FuzzRoundTrip(f *testing.F) {
	f.Add("Subject", "hello", "Text", "    a\n    b\n      c")
	f.Add("CF.{Sev}", "x}: y", "Text", "\tx\n\ty\n\n")
	f.Add("Text", "\r\n\r\nlead", "Queue", " General")
	for name, body := range allTranscripts(f) {
		_ = name
		f.Add("Text", string(body), "Subject", string(body[:min(40, len(body))]))
	}
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2 string) {
		var form Form
		for _, fl := range []Field{{k1, v1}, {k2, v2}} {
			if ValidKey(fl.Key) == nil {
				form = append(form, fl)
			}
		}
		checkRoundTrip(t, form)
	})
}

func BenchmarkEncodeForm(b *testing.B) {
	f := Form{
		{"id", "ticket/new"}, {"Queue", "General"}, {"Requestor", "alice@example.com, bob@example.com"},
		{"Subject", "[FIRING:1] HighLatency api-gateway (critical)"}, {"CF.{Severity}", "critical"},
		{"Text", strings.Repeat("Labels:\n  - alertname = HighLatency\n  - instance = api-1:9090\n", 20)},
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.Encode(); err != nil {
			b.Fatal(err)
		}
	}
}
