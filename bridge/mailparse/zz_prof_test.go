package mailparse

import (
	"os"
	"testing"
)

func BenchmarkOneBomb(b *testing.B) {
	name := os.Getenv("BOMB")
	size := bombSize()
	var raw []byte
	if name == "benign" {
		raw = benignMail(size)
	}
	for _, bm := range bombs {
		if bm.name == name {
			raw = bm.gen(size)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		daemonPath(b, raw)
	}
}
