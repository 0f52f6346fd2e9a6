package executor

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/rtbridge/rtbridge/bridge/source"
	"github.com/rtbridge/rtbridge/event"
	"github.com/rtbridge/rtbridge/plan"
	"github.com/rtbridge/rtbridge/rtapi"
)

// flakyStore is the real store whose payloads fail to open or to read.
type flakyStore struct {
	Store
	openErr, readErr error
}

var errDisk = errors.New("disk on fire")

func (f *flakyStore) Raw(ctx context.Context, id string) (io.ReadCloser, error) {
	if f.openErr != nil {
		return nil, f.openErr
	}
	rc, err := f.Store.Raw(ctx, id)
	if err != nil || f.readErr == nil {
		return rc, err
	}
	return struct {
		io.Reader
		io.Closer
	}{io.MultiReader(io.LimitReader(rc, 5), errReader{f.readErr}), rc}, nil
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// TestLoadTellsStorageFromParseFailures: the parser streams the payload, so
// a failure to open or read it surfaces inside Parse; it must stay a
// storage error (the event is retried), while bytes that do not parse make
// a parse error (the event is dead-lettered).
func TestLoadTellsStorageFromParseFailures(t *testing.T) {
	h := newHarness(t)
	rt, err := rtapi.New(rtapi.Config{URL: "http://127.0.0.1:9/", Auth: rtapi.NewTokenAuth("unused")})
	if err != nil {
		t.Fatal(err)
	}
	fs := &flakyStore{Store: h.st}
	x, err := New(Options{Store: fs, RT: rt, Rules: func(event.Kind) plan.Planner { return h.rules }})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	good := h.accept("g", "General", strings.Repeat("x", 100<<10)) // > InlineMax: a payload file
	acc, err := h.st.Accept(ctx, source.Incoming{Source: "hook", Kind: event.KindJSON, Raw: strings.NewReader(`{"broken`)})
	if err != nil {
		t.Fatal(err)
	}
	var pe *parseError

	fs.openErr = errDisk
	if _, _, err := x.load(ctx, good); !errors.Is(err, errDisk) || errors.As(err, &pe) {
		t.Errorf("open failure: %v (%T), want a storage error wrapping it", err, err)
	}
	fs.openErr, fs.readErr = nil, errDisk
	if _, _, err := x.load(ctx, good); !errors.Is(err, errDisk) || errors.As(err, &pe) {
		t.Errorf("read failure: %v (%T), want a storage error wrapping it", err, err)
	}
	fs.readErr = nil
	ev, _, err := x.load(ctx, good)
	if err != nil || ev.JSON == nil || ev.ID != good {
		t.Fatalf("readable payload: %+v, %v", ev, err)
	}
	if _, _, err := x.load(ctx, acc.ID); !errors.As(err, &pe) {
		t.Errorf("broken JSON: %v (%T), want a parse error", err, err)
	}
}
