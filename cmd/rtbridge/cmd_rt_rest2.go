package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/rtbridge/rtbridge/bridge/config"
	"github.com/rtbridge/rtbridge/bridge/daemon"
	"github.com/rtbridge/rtbridge/rtapi"
	"github.com/rtbridge/rtbridge/rtapi/rest2"
)

// rtVerbs are the subcommands of "rtbridge rt"; put and delete exist only
// with --api rest2.
var rtVerbs = map[string]bool{"get": true, "post": true, "put": true, "delete": true}

// verbFirst moves the verb to the front, so that connection flags may come
// before it ("rtbridge rt --api rest2 get PATH"). A flag's value is never
// taken for the verb.
func verbFirst(args []string) []string {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if rtVerbs[a] {
			if i == 0 {
				return args
			}
			out := append([]string{a}, args[:i]...)
			return append(out, args[i+1:]...)
		}
		if !strings.HasPrefix(a, "-") || a == "--" {
			return args // a PATH or junk before any verb: usage error later
		}
		name := strings.TrimLeft(a, "-")
		if !strings.Contains(name, "=") && name != "v" && name != "h" && name != "help" {
			i++ // skip the flag's value
		}
	}
	return args
}

// rest2Result is the JSON printed by "rtbridge rt --api rest2".
type rest2Result struct {
	Status     int             `json:"status"`
	StatusText string          `json:"status_text"`
	Body       json.RawMessage `json:"body,omitempty"`
	Text       string          `json:"text,omitempty"`
	Error      string          `json:"error,omitempty"`
	Kind       string          `json:"kind,omitempty"`
}

// rest2 runs one raw REST2 call.
func (o *rtOptions) rest2(ctx context.Context, c config.RT, log *slog.Logger, verb, path string, stdout, stderr io.Writer) int {
	if len(o.fields) > 0 || len(o.files) > 0 {
		fmt.Fprintln(stderr, "rtbridge rt: -f and -a are REST 1.0 forms; with --api rest2 send JSON with --data FILE")
		return 2
	}
	if len(o.query) > 0 {
		q, err := keyValues(o.query)
		if err != nil {
			fmt.Fprintf(stderr, "rtbridge rt %s: --query: %v\n", verb, err)
			return 2
		}
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		path += sep + q.Encode()
	}
	var body []byte
	if o.data != "" {
		var err error
		if o.data == "-" {
			body, err = io.ReadAll(os.Stdin)
		} else {
			body, err = os.ReadFile(o.data)
		}
		if err != nil {
			fmt.Fprintf(stderr, "rtbridge rt %s: --data: %v\n", verb, err)
			return 2
		}
		if !json.Valid(body) {
			fmt.Fprintf(stderr, "rtbridge rt %s: --data %s is not valid JSON\n", verb, o.data)
			return 2
		}
	}
	be, err := daemon.NewRT(c, nil, log)
	if err != nil {
		fmt.Fprintf(stderr, "rtbridge rt: %v\n", err)
		return 2
	}
	client, ok := be.(*rest2.Client)
	if !ok {
		fmt.Fprintf(stderr, "rtbridge rt: rt.api rest2 built a %T, not a REST2 client\n", be)
		return 2
	}
	status, b, err := client.Raw(ctx, strings.ToUpper(verb), path, body)
	return writeREST2Result(stdout, stderr, status, b, err)
}

func writeREST2Result(stdout, stderr io.Writer, status int, b []byte, err error) int {
	out := rest2Result{Status: status, StatusText: http.StatusText(status)}
	switch {
	case len(b) == 0:
	case json.Valid(b):
		out.Body = b
	case utf8.Valid(b):
		out.Text = string(b)
	default:
		out.Text = fmt.Sprintf("(%d bytes, not UTF-8)", len(b))
	}
	if err != nil {
		out.Error = err.Error()
		var e *rtapi.Error
		if errors.As(err, &e) {
			if out.Status == 0 {
				out.Status = e.Code
			}
			if e.Text != "" {
				out.StatusText = e.Text
			}
			out.Kind = e.Kind.String()
		}
	}
	return printRT(stdout, stderr, out, err)
}
