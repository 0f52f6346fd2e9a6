package store

import (
	"context"
	"errors"
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

// TestOpenReadOnly: an empty directory is not turned into a store, a
// store is read beside its writer, and every write is refused.
func TestOpenReadOnly(t *testing.T) {
	empty := t.TempDir()
	if _, err := OpenReadOnly(context.Background(), empty); !errors.Is(err, ErrNoStore) {
		t.Fatalf("empty dir: %v, want ErrNoStore", err)
	}
	if entries, _ := os.ReadDir(empty); len(entries) != 0 {
		t.Errorf("OpenReadOnly created %d entries in an empty dir", len(entries))
	}
	dir := t.TempDir()
	w := open(t, dir)
	defer w.Close()
	acc, err := w.Accept(context.Background(), incoming("hook", "ro", `{"a":1}`))
	if err != nil {
		t.Fatal(err)
	}
	r, err := OpenReadOnly(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := r.Event(context.Background(), acc.ID); err != nil {
		t.Errorf("read beside the writer: %v", err)
	}
	if _, err := r.Stats(context.Background()); err != nil {
		t.Errorf("stats: %v", err)
	}
	if _, err := r.Accept(context.Background(), incoming("hook", "ro2", `{}`)); !errors.Is(err, ErrReadOnly) {
		t.Errorf("accept: %v, want ErrReadOnly", err)
	}
	if err := r.Drop(context.Background(), acc.ID); !errors.Is(err, ErrReadOnly) {
		t.Errorf("drop: %v, want ErrReadOnly", err)
	}
}
