package alerts

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"time"

	"github.com/prometheus/common/model"

	"github.com/rtbridge/rtbridge/event"
)

// decoder pulls known fields out of a decoded JSON object (deleting them, so
// what remains is Extra) and remembers the first error, so the field readers
// can be called in a row without checking each.
type decoder struct {
	kind   event.Kind
	prefix string // JSON path of the object being read, e.g. "alerts[3]."
	err    error
}

func (d *decoder) fail(field, reason string) {
	if d.err == nil {
		d.err = &ParseError{Kind: d.kind, Field: d.prefix + field, Reason: reason}
	}
}

// object decodes raw as a JSON object (a map of raw members). Trailing data
// and non-objects are errors.
func (d *decoder) object(path string, raw []byte) (map[string]json.RawMessage, error) {
	if d.err != nil {
		return nil, d.err
	}
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		what := "not a JSON object"
		if len(trimmed) == 0 {
			what = "empty body"
		}
		d.fail(path, what)
		return nil, d.err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(trimmed, &m); err != nil {
		d.fail(path, "malformed JSON: "+jsonReason(err))
		return nil, d.err
	}
	return m, nil
}

// jsonReason shortens encoding/json's message to one that quotes no input.
func jsonReason(err error) string {
	if syn, ok := errors.AsType[*json.SyntaxError](err); ok {
		return fmt.Sprintf("syntax error at byte %d", syn.Offset)
	}
	return "cannot decode"
}

func take(m map[string]json.RawMessage, key string) (json.RawMessage, bool) {
	v, ok := m[key]
	if ok {
		delete(m, key)
	}
	return v, ok
}

func isNull(raw json.RawMessage) bool { return string(bytes.TrimSpace(raw)) == "null" }

func (d *decoder) version(m map[string]json.RawMessage, want string, dst *string) error {
	raw, ok := take(m, "version")
	if !ok || isNull(raw) {
		d.err = &ParseError{Kind: d.kind, Field: "version", err: ErrVersion,
			Reason: fmt.Sprintf("missing; %s sends version %q (use a json endpoint for other payloads)", d.kind, want)}
		return d.err
	}
	var v string
	if err := json.Unmarshal(raw, &v); err != nil || v != want {
		d.err = &ParseError{Kind: d.kind, Field: "version", err: ErrVersion,
			Reason: fmt.Sprintf("expected %q, got %.20s", want, string(bytes.TrimSpace(raw)))}
		return d.err
	}
	*dst = v
	return nil
}

func (d *decoder) str(m map[string]json.RawMessage, key string, dst *string, required bool) {
	raw, ok := take(m, key)
	if d.err != nil {
		return
	}
	if !ok || isNull(raw) {
		if required {
			d.fail(key, "missing")
		}
		return
	}
	if err := json.Unmarshal(raw, dst); err != nil {
		d.fail(key, "not a string")
	}
}

func (d *decoder) status(key, v string) {
	if d.err == nil && v != "firing" && v != "resolved" {
		d.fail(key, fmt.Sprintf("expected \"firing\" or \"resolved\", got %q", truncate(v, 20)))
	}
}

func (d *decoder) integer(m map[string]json.RawMessage, key string, dst *int) {
	var v int64
	d.int64(m, key, &v)
	if d.err == nil && (v < 0 || v > math.MaxInt32) {
		d.fail(key, "out of range")
		return
	}
	*dst = int(v)
}

func (d *decoder) int64(m map[string]json.RawMessage, key string, dst *int64) {
	raw, ok := take(m, key)
	if d.err != nil || !ok || isNull(raw) {
		return
	}
	v, err := strconv.ParseInt(string(bytes.TrimSpace(raw)), 10, 64)
	if err != nil {
		d.fail(key, "not an integer")
		return
	}
	*dst = v
}

// strMap reads a string→string object; null or absent is an empty map, so
// rules never meet a nil map.
func (d *decoder) strMap(m map[string]json.RawMessage, key string) map[string]string {
	out := map[string]string{}
	raw, ok := take(m, key)
	if d.err != nil || !ok || isNull(raw) {
		return out
	}
	var vals map[string]*string
	if err := json.Unmarshal(raw, &vals); err != nil {
		d.fail(key, "not an object of strings")
		return out
	}
	for k, v := range vals {
		if k == "" {
			d.fail(key, "empty name")
			return out
		}
		if v != nil { // null means "no value": Alertmanager never sends it
			out[k] = *v
		}
	}
	return out
}

func (d *decoder) values(m map[string]json.RawMessage, key string) map[string]float64 {
	raw, ok := take(m, key)
	if d.err != nil || !ok || isNull(raw) {
		return nil
	}
	var vals map[string]*float64
	if err := json.Unmarshal(raw, &vals); err != nil {
		d.fail(key, "not an object of numbers")
		return nil
	}
	out := make(map[string]float64, len(vals))
	for k, v := range vals {
		if v != nil {
			out[k] = *v
		}
	}
	return out
}

// time reads an RFC 3339 time; Alertmanager's "0001-01-01T00:00:00Z" (no end
// yet) becomes the zero time.
func (d *decoder) time(m map[string]json.RawMessage, key string) time.Time {
	var s string
	d.str(m, key, &s, false)
	if d.err != nil || s == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		d.fail(key, fmt.Sprintf("not an RFC 3339 time: %q", truncate(s, 40)))
		return time.Time{}
	}
	if t.Year() <= 1 {
		return time.Time{}
	}
	return t
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// Fingerprint is Alertmanager's alert fingerprint of a label set (the
// 16-hex-digit FNV-1a hash of the sorted label pairs), used when a sender
// leaves the field out.
func Fingerprint(labels map[string]string) string {
	ls := make(model.LabelSet, len(labels))
	for k, v := range labels {
		ls[model.LabelName(k)] = model.LabelValue(v)
	}
	return ls.Fingerprint().String()
}

// SortedFingerprints returns the fingerprints of n's alerts with the given
// status ("" for all), sorted and without duplicates.
func SortedFingerprints(n *event.AlertNotification, status string) []string {
	seen := map[string]bool{}
	var out []string
	for _, a := range n.Alerts {
		if (status == "" || a.Status == status) && !seen[a.Fingerprint] {
			seen[a.Fingerprint] = true
			out = append(out, a.Fingerprint)
		}
	}
	sort.Strings(out)
	return out
}
