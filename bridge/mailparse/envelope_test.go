package mailparse

import (
	"math/rand"
	"reflect"
	"regexp"
	"testing"
)

// The hand-written scans find what the regexps they replace find.
func TestScansMatchRegexps(t *testing.T) {
	bare := regexp.MustCompile(`[^\s<>,;:"()\[\]]+@[^\s<>,;:"()\[\]]+`)
	ids := regexp.MustCompile(`<([^<>\s]+)>`)
	r := rand.New(rand.NewSource(1))
	alpha := "ab@<> \t,;:\"()[]\xc3\xa4\xff\r\n"
	for i := 0; i < 300000; i++ {
		b := make([]byte, r.Intn(14))
		for k := range b {
			b[k] = alpha[r.Intn(len(alpha))]
		}
		s := string(b)
		if got, want := bareAddrs(s), bare.FindAllString(s, -1); !reflect.DeepEqual(got, want) {
			t.Fatalf("bare %q: %q want %q", s, got, want)
		}
		var want []string
		for _, m := range ids.FindAllStringSubmatch(s, -1) {
			want = append(want, m[1])
		}
		if got := bracketed(s); !reflect.DeepEqual(got, want) {
			t.Fatalf("ids %q: %q want %q", s, got, want)
		}
	}
}
