package form

import (
	"bytes"
	"strings"
	"testing"
)

func FuzzParse(f *testing.F) {
	for _, body := range allTranscripts(f) {
		f.Add(body)
	}
	f.Add([]byte("RT/5 200 Ok\n\nText:\n\n\n"))
	f.Add([]byte("RT/5 409 Syntax Error\n\n# Syntax error.\n\nSubject: a\n>> # x\nQueue: b\n"))
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := Parse(body)
		if err != nil {
			if !strings.HasPrefix(err.Error(), ErrNotRT.Error()) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		if !bytes.Equal(r.Raw, body) || r.Empty != (len(body) == 0) {
			t.Fatalf("Raw/Empty mismatch")
		}
		if seps := strings.Count("\n"+string(body)+"\n", "\n--\n"); len(r.Records) > seps+1 {
			t.Fatalf("%d records from %d separators", len(r.Records), seps)
		}
		for _, rec := range r.Records {
			for _, fl := range rec.Fields {
				// Every key is one RT's grammar reads back as itself.
				if k, _, ok := matchField(fl.Key + ": x"); !ok || k != fl.Key {
					t.Fatalf("key %q does not re-match (%q)", fl.Key, k)
				}
			}
		}
	})
}

func BenchmarkParseTicket(b *testing.B) {
	body := transcript(b, "13")
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := Parse(body); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseHistoryLong(b *testing.B) {
	body := transcript(b, "43")
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := Parse(body); err != nil {
			b.Fatal(err)
		}
	}
}
