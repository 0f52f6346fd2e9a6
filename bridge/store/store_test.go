package store

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rtbridge/rtbridge/bridge/source"
)

func open(t testing.TB, dir string) *Store {
	t.Helper()
	s, err := Open(context.Background(), dir, Options{InlineMax: 1024})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func incoming(src, dedup, body string) source.Incoming {
	return source.Incoming{Source: src, Kind: "json", DedupKey: dedup, Raw: strings.NewReader(body),
		Origin: map[string]string{"path": "/hook"}, Meta: map[string]string{"ct": "application/json"}}
}

func TestMigrationsFromEmpty(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	s.Close()
	db, err := sql.Open("sqlite", filepath.Join(dir, DBName))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var v int
	if err := db.QueryRow(`SELECT version FROM schema_version`).Scan(&v); err != nil || v != SchemaVersion() {
		t.Fatalf("schema version %d (%v), want %d", v, err, SchemaVersion())
	}
	var mode string
	if err := db.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Fatalf("journal mode %q (%v), want wal", mode, err)
	}
	// Reopening an up-to-date database applies nothing and works.
	s = open(t, dir)
	s.Close()
	// A database from a newer rtbridge is refused, not modified.
	if _, err := db.Exec(`UPDATE schema_version SET version = ?`, SchemaVersion()+1); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(context.Background(), dir, Options{}); err == nil || !strings.Contains(err.Error(), "newer") {
		t.Fatalf("open of a newer schema: %v", err)
	}
}

func TestIDsSortable(t *testing.T) {
	var g IDGen
	now := time.Now()
	prev := ""
	for i := range 1000 {
		at := now
		if i%7 == 0 {
			at = now.Add(-time.Second) // a clock step back must not break order
		}
		id := g.Next(at)
		if len(id) != 26 || id <= prev {
			t.Fatalf("id %q after %q", id, prev)
		}
		prev = id
	}
	if a, b := g.Next(now.Add(time.Hour)), g.Next(now.Add(2*time.Hour)); !bytes.Equal([]byte(a[:10]), []byte(a[:10])) || a >= b {
		t.Fatal("later time, smaller id")
	}
}

// Concurrent Accepts share commits (group commit: one fsync for many).
func TestGroupCommitBatches(t *testing.T) {
	s := open(t, t.TempDir())
	defer s.Close()
	const n = 400
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := s.Accept(context.Background(), incoming("hook", fmt.Sprint(i), "{}")); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	commits, accepts := s.CommitStats()
	if accepts != n || commits >= n {
		t.Fatalf("%d accepts in %d commits: no batching", accepts, commits)
	}
	t.Logf("%d accepts shared %d commits", accepts, commits)
}

// Prune removes payload files no row refers to once they are an hour old
// (a crash between the file's fsync and the commit leaves one).
func TestPruneOrphanFiles(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	defer s.Close()
	ctx := context.Background()
	acc, _ := s.Accept(ctx, incoming("hook", "", strings.Repeat("z", 2000)))
	orphan := filepath.Join(dir, RawDir, "deadbeef.raw")
	fresh := filepath.Join(dir, RawDir, "cafe.raw")
	os.WriteFile(orphan, []byte("left by a crash"), 0o600)
	os.WriteFile(fresh, []byte("being accepted"), 0o600)
	old := time.Now().Add(-2 * time.Hour)
	os.Chtimes(orphan, old, old)
	if _, err := s.Prune(ctx, Retention{}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(orphan); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("orphan kept: %v", err)
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Fatalf("a fresh file went: %v", err)
	}
	if got := s.rawFile(t, acc.ID); got == "" {
		t.Fatal("the event's own payload file went")
	}
}

func (s *Store) rawFile(t *testing.T, id string) string {
	t.Helper()
	var f string
	if err := s.rdb.QueryRow(`SELECT raw_file FROM events WHERE id = ?`, id).Scan(&f); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(s.dir, RawDir, f)); err != nil {
		return ""
	}
	return f
}

func readRaw(t *testing.T, s *Store, id string) string {
	t.Helper()
	rc, err := s.Raw(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
