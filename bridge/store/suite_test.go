package store_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/rtbridge/rtbridge/bridge/store"
	"github.com/rtbridge/rtbridge/bridge/store/storetest"
)

// sqliteDB is one state directory; every Open is another process on it.
type sqliteDB struct{ dir string }

func (d sqliteDB) Open(t testing.TB) storetest.Store {
	t.Helper()
	s, err := store.Open(context.Background(), d.dir, store.Options{InlineMax: 1024})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// Apart counts the payload files beside the database.
func (d sqliteDB) Apart(t testing.TB) int {
	files, err := os.ReadDir(filepath.Join(d.dir, store.RawDir))
	if err != nil {
		t.Fatal(err)
	}
	return len(files)
}

func TestSuite(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.DB { return sqliteDB{t.TempDir()} })
}
