package decode

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/rtbridge/rtbridge/bridge/source"
	"github.com/rtbridge/rtbridge/event"
)

func opener(s string) func() (io.ReadCloser, error) {
	return func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(s)), nil }
}

// The oversize note of a header-only mail comes from the decoder, so
// `rtbridge test`, intake and the executor all carry it.
func TestOversizeMailSaysSo(t *testing.T) {
	ev, err := Event(Stored{ID: "e1", Source: "box/INBOX", Kind: event.KindMail, Open: opener("Subject: big\r\nMessage-ID: <m@x>\r\n\r\n"),
		Meta: map[string]string{source.MetaOversize: "999", source.MetaLimit: "10\nX: y"}})
	if err != nil {
		t.Fatal(err)
	}
	if ev.ID != "e1" || ev.Source != "box/INBOX" || ev.Mail.MessageID != "m@x" || len(ev.Mail.ParseProblems) != 1 ||
		!strings.Contains(ev.Mail.ParseProblems[0], "(999 bytes) is larger than max_message_bytes (?)") {
		t.Fatalf("%+v %q", ev, ev.Mail.ParseProblems)
	}
}

func TestKindsAndErrors(t *testing.T) {
	am := `{"version":"4","groupKey":"g","status":"firing","alerts":[{"status":"firing","labels":{"a":"b"},"fingerprint":"f"}]}`
	for s, want := range map[string]event.Kind{am: event.KindAlertmanager, `{"version":"1","groupKey":"g","alerts":[],"orgId":1}`: event.KindGrafana,
		`{"app":"shop"}`: event.KindJSON, `{broken`: event.KindJSON, "From: a@b\r\n\r\nhi": event.KindMail} {
		if got := DetectKind([]byte(s)); got != want {
			t.Errorf("%q: %s, want %s", s, got, want)
		}
	}
	ev, err := Event(Stored{Kind: event.KindAlertmanager, Open: opener(am)})
	if err != nil || ev.Alert == nil || ev.Alert.Alerts[0].Fingerprint != "f" {
		t.Fatalf("alert: %+v %v", ev, err)
	}
	ev, err = Event(Stored{Kind: event.KindJSON, Open: opener(`{"n": 12345678901234567890}`), Meta: map[string]string{"path": "/h", "header.X-A": "1"}})
	if err != nil || ev.JSON.Path != "/h" || ev.JSON.Header.Get("X-A") != "1" {
		t.Fatalf("json: %+v %v", ev, err)
	}
	disk := errors.New("disk gone")
	_, err = Event(Stored{Kind: event.KindJSON, Open: func() (io.ReadCloser, error) { return nil, disk }})
	if !errors.Is(err, disk) {
		t.Fatalf("storage error not wrapped: %v", err)
	}
	if _, err := Event(Stored{Kind: "fax", Open: opener("")}); err == nil {
		t.Fatal("unknown kind decoded")
	}
}
