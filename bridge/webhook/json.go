package webhook

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/textproto"
	"strings"

	"github.com/rtbridge/rtbridge/event"
)

// Kind is one endpoint kind: what the bytes become and how to check them.
type Kind struct {
	Event event.Kind
	// Check validates a body; its error text becomes the 400 answer, so it
	// must say what is wrong in the sender's terms.
	Check func(body []byte) error
}

// JSONKind is the generic JSON webhook: any JSON object or array.
var JSONKind = Kind{Event: event.KindJSON, Check: CheckJSON}

// CheckJSON accepts exactly one JSON object or array, and says where the
// first problem is otherwise.
func CheckJSON(body []byte) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	tok, err := dec.Token()
	if err != nil {
		return jsonProblem(body, err)
	}
	if d, ok := tok.(json.Delim); !ok || (d != '{' && d != '[') {
		return fmt.Errorf("the body must be a JSON object or array, not %s", describeToken(tok))
	}
	if !json.Valid(body) {
		// Decode again to learn where it breaks.
		var v any
		dec := json.NewDecoder(bytes.NewReader(body))
		if err := dec.Decode(&v); err != nil {
			return jsonProblem(body, err)
		}
		off := dec.InputOffset()
		for off < int64(len(body)) && strings.ContainsRune(" \t\r\n", rune(body[off])) {
			off++
		}
		line, col := position(body, off)
		return fmt.Errorf("invalid JSON at line %d, column %d: unexpected data after the top-level value", line, col)
	}
	return nil
}

func jsonProblem(body []byte, err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		// Offset counts the offending byte; positions name that byte.
		line, col := position(body, se.Offset-1)
		return fmt.Errorf("invalid JSON at line %d, column %d: %s", line, col, se.Error())
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return errors.New("invalid JSON: the body ends before the value does")
	}
	return fmt.Errorf("invalid JSON: %s", err.Error())
}

func position(b []byte, off int64) (line, col int) {
	off = max(0, min(off, int64(len(b))))
	pre := b[:off]
	line = bytes.Count(pre, []byte("\n")) + 1
	return line, int(off) - bytes.LastIndexByte(pre, '\n')
}

func describeToken(t json.Token) string {
	switch t.(type) {
	case string:
		return "a string"
	case float64, json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%v", t)
}

// Meta keys stored with every webhook event.
const (
	MetaPath         = "path"
	MetaHeaderPrefix = "header."
)

// ParseJSON derives the event view of a stored json-kind webhook event from
// its raw bytes and stored meta (the planner calls it, also for replays).
func ParseJSON(raw []byte, meta map[string]string) (*event.JSONBody, error) {
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber() // keep large ids exact
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("webhook: parse stored body: %w", err)
	}
	h := textproto.MIMEHeader{}
	for k, val := range meta {
		if name, ok := strings.CutPrefix(k, MetaHeaderPrefix); ok {
			h.Set(name, val)
		}
	}
	return &event.JSONBody{Body: v, Header: h, Path: meta[MetaPath]}, nil
}

// maxMetaHeaders bounds what a sender can make us store besides the body.
const (
	maxMetaHeaders    = 32
	maxMetaHeaderSize = 1024
)

// safeHeaders selects the request headers kept with the event: not those
// that carry credentials (by name), and within bounds.
func safeHeaders(h http.Header, secretHeader string, meta map[string]string) {
	n := 0
	for name, vals := range h {
		if n >= maxMetaHeaders || len(vals) == 0 || isSecretHeader(name) || strings.EqualFold(name, secretHeader) {
			continue
		}
		v := strings.Join(vals, ", ")
		if len(v) > maxMetaHeaderSize {
			v = v[:maxMetaHeaderSize]
		}
		meta[MetaHeaderPrefix+textproto.CanonicalMIMEHeaderKey(name)] = v
		n++
	}
}

func isSecretHeader(name string) bool {
	l := strings.ToLower(name)
	for _, s := range []string{"authorization", "cookie", "token", "secret", "signature", "password", "api-key", "apikey", "auth"} {
		if strings.Contains(l, s) {
			return true
		}
	}
	return false
}
