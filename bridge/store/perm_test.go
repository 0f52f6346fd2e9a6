package store

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestStateIsPrivateWhateverTheUmask: with umask 0 (the loosest), the state
// directory, the database, its WAL and payload files are readable by the
// daemon's user only; a directory an older version left 0755 is tightened.
func TestStateIsPrivateWhateverTheUmask(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	if err := os.MkdirAll(filepath.Join(dir, RawDir), 0o755); err != nil {
		t.Fatal(err)
	}
	old := syscall.Umask(0)
	s := open(t, dir)
	_, err := s.Accept(context.Background(), incoming("hook", "big", strings.Repeat("x", 5000)))
	syscall.Umask(old)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	n := 0
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		want := fileMode
		if d.IsDir() {
			want = dirMode
		}
		if info.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %v", p, info.Mode().Perm(), want)
		}
		n++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 5 { // dir, raw dir, db, -wal, one payload file
		t.Errorf("only %d entries checked", n)
	}
}
