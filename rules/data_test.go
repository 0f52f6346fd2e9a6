package rules

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/rtbridge/rtbridge/event"
)

// newData's header maps: Header holds the first value of each header,
// Headers every value; a mail without headers has empty, non-nil maps (so
// toJSON prints {} and not null).
func TestNewDataHeaders(t *testing.T) {
	ev := mailEvent()
	ev.Mail.Header = map[string][]string{"Received": {"a", "b"}, "Subject": {"Printer broken"}, "X-Empty": {}}
	d := newData(ev)
	if want := map[string]string{"Received": "a", "Subject": "Printer broken"}; !reflect.DeepEqual(d.Header, want) {
		t.Errorf("Header = %v, want %v", d.Header, want)
	}
	if want := map[string][]string{"Received": {"a", "b"}, "Subject": {"Printer broken"}, "X-Empty": {}}; !reflect.DeepEqual(d.Headers, want) {
		t.Errorf("Headers = %v, want %v", d.Headers, want)
	}
	ev.Mail.Header = nil
	d = newData(ev)
	for name, m := range map[string]any{"Header": d.Header, "Headers": d.Headers} {
		if b, err := json.Marshal(m); err != nil || string(b) != "{}" {
			t.Errorf("%s of a mail without headers = %s, %v; want {}", name, b, err)
		}
	}
	if d := newData(&event.Event{Kind: event.KindJSON}); d.Header != nil || d.Headers != nil {
		t.Errorf("a non-mail event has header maps: %v %v", d.Header, d.Headers)
	}
}
