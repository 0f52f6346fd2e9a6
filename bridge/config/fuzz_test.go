package config

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoad: any bytes give a config or an error, never a panic, and every
// error names the file.
func FuzzLoad(f *testing.F) {
	for _, name := range []string{"good", "many", "wrong-shape", "dup-webhook", "auth-scalar"} {
		b, err := os.ReadFile(filepath.Join("testdata", name+".yaml"))
		if err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("rt: &a {url: *a}\n"))
	f.Add([]byte("webhooks: [ {auth: [none]} ]\n"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(dir, "c.yaml")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := load(path, func(string) (string, bool) { return "v", true }, false)
		if err != nil && len(err.Error()) < len(path) {
			t.Errorf("error without the file name: %v", err)
		}
	})
}
