package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"mime"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/rtbridge/rtbridge/bridge/config"
	"github.com/rtbridge/rtbridge/bridge/daemon"
	"github.com/rtbridge/rtbridge/rtapi"
	"github.com/rtbridge/rtbridge/rtapi/form"
)

const rtUsage = `usage: rtbridge rt get PATH [--query KEY=VALUE ...] [connection flags]
       rtbridge rt post PATH [-f KEY=VALUE ...] [-a FILE ...] [connection flags]
       rtbridge rt --api rest2 get|delete PATH [--query KEY=VALUE ...] [connection flags]
       rtbridge rt --api rest2 post|put PATH [--data FILE|-] [connection flags]

Talks to RT's REST 1.0 directly, with the same client and credentials the
daemon uses: "rtbridge rt get user/<your RT user>" is the credential check.
PATH is relative to REST/1.0/, e.g. ticket/17/show, ticket/17/history,
search/ticket (with --query query=..., --query orderby=+id), queue/General.

Output (stdout) is one JSON object:
  {"status": 200, "status_text": "Ok",
   "records": [[["id","ticket/17"],["Subject","..."]]],
   "comments": ["..."], "lines": ["..."]}
"status" is the HTTP-like status of RT's answer. RT REST 1.0 says "200 Ok"
even when it refuses, and puts the reason in a "#" line, so rtbridge maps
those lines to the status they mean: "# Ticket 9 does not exist." is 404,
"# You are not allowed to ..." 403, "# Could not create ticket." 400, and
"200 Ok" means RT did it. An answer that names the object RT created or
changed ("# Ticket 17 created.", "# Ticket 17 updated.", "# User 23 created.",
"# Queue 3 updated.", "# Links for ticket 17 updated.") has it as a record
[["id","ticket/17"]] (the comment stays), before any records of its own. On an RT error the object also has "error" and
"kind"; for 409 the records are RT's per-field errors,
[[["queue","..."],["spam","Unknown field."]]], also in "errors", and the
form RT echoed is in "form". Paths ending in /content
(ticket/N/attachments/A/content) write the raw bytes instead.

post sends the fields as RT's "content" form (values may span lines; they
are encoded so RT stores them exactly) and files as attachments
(attachment_1..N, listed in an Attachment: field; type from the extension).

With --api rest2 (or rt.api: rest2) the call goes to RT's REST2 instead:
PATH is relative to REST/2.0/ (ticket/17, tickets?query=id>10, queue/General,
ticket/17/history), the body of post/put is the JSON in --data FILE (or -
for stdin), and the output is
  {"status": 201, "status_text": "Created", "body": <RT's JSON answer>}
with "error" and "kind" added when RT refused (exit status 1). A body that
is not JSON is printed as "text". REST2 authenticates by token, basic
(RT checks the password itself) or kerberos; the default is token when a
token file is given, else basic.

Connection (later wins): the rt: section of --config (default
` + defaultConfig + ` when it exists and neither --url nor RTBRIDGE_RT_URL
is given), the environment
RTBRIDGE_RT_URL, RTBRIDGE_RT_USER, RTBRIDGE_RT_PASSWORD_FILE,
RTBRIDGE_RT_TOKEN_FILE, RTBRIDGE_RT_AUTH, RTBRIDGE_RT_API, then the flags. Secrets are only
read from files, never from the command line.

Exit status: 0 success, 1 RT refused or could not be reached, or the
config or a secret file could not be read, 2 usage.

Examples:
  rtbridge rt --config /etc/rtbridge/config.yaml get user/rtbridge
  rtbridge rt get ticket/17/show --url https://rt.example.com/ --user bridge --password-file pw
  rtbridge rt post ticket/new -f Queue=General -f Subject=test -f Text=hello -a log.txt
  rtbridge rt get ticket/17/attachments/42/content > file.bin
  rtbridge rt --api rest2 --token-file tok get 'tickets?query=Status="new"'
  echo '{"Queue":"General","Subject":"hi"}' | rtbridge rt --api rest2 post ticket --data -

Flags:
`

// rtOptions are the flags of "rtbridge rt".
type rtOptions struct {
	configFile, url, user, passwordFile, tokenFile, auth string
	api, data                                            string
	timeout                                              time.Duration
	verbose                                              bool
	query, fields, files                                 multiFlag
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func (o *rtOptions) flags(name string, stderr io.Writer) *flag.FlagSet {
	fs := newFlags("rtbridge rt "+name, stderr)
	fs.Usage = func() { fmt.Fprint(stderr, rtUsage); fs.PrintDefaults() }
	fs.StringVar(&o.configFile, "config", "", "config `FILE` whose rt: section gives the connection (default "+defaultConfig+" if it exists and no --url or RTBRIDGE_RT_URL)")
	fs.StringVar(&o.url, "url", "", "RT `URL` (https://rt.example.com/ or …/REST/1.0/)")
	fs.StringVar(&o.user, "user", "", "RT user `NAME`")
	fs.StringVar(&o.passwordFile, "password-file", "", "read the password from `FILE`")
	fs.StringVar(&o.tokenFile, "token-file", "", "read an RT auth token from `FILE`")
	fs.StringVar(&o.auth, "auth", "", "`METHOD`: cookie (log in once), query (user/pass on every request), basic (pre-emptive, for an authenticating web server), token, kerberos (SPNEGO; rt.kerberos of --config)")
	fs.DurationVar(&o.timeout, "timeout", 0, "per-request timeout (default: config, else 30s)")
	fs.BoolVar(&o.verbose, "v", false, "debug log of every request to stderr (no secrets)")
	fs.StringVar(&o.api, "api", "", "`API`: rest1 (REST/1.0/, the default) or rest2 (REST/2.0/, raw JSON)")
	fs.Bool("json", true, "print JSON (the output always is)")
	if name == "post" || name == "put" {
		fs.StringVar(&o.data, "data", "", "rest2: JSON body from `FILE` (- for stdin)")
	}
	if name == "get" || name == "delete" {
		fs.Var(&o.query, "query", "URL parameter `KEY=VALUE` (repeatable), e.g. query=Queue='General'")
	}
	if name == "post" {
		fs.Var(&o.fields, "f", "form field `KEY=VALUE` (repeatable, in order)")
		fs.Var(&o.files, "a", "attach `FILE` (repeatable)")
	}
	return fs
}

func cmdRT(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	args = verbFirst(args)
	if len(args) == 0 || !rtVerbs[args[0]] {
		o := &rtOptions{}
		fs := o.flags("", stderr)
		fs.Usage()
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
			return 0
		}
		return 2
	}
	o := &rtOptions{}
	fs := o.flags(args[0], stderr)
	pos, code, ok := parseFlags(fs, args[1:])
	if !ok {
		return code
	}
	if len(pos) != 1 {
		fmt.Fprintf(stderr, "rtbridge rt %s: need exactly one PATH (got %d)\n", args[0], len(pos))
		return 2
	}
	c, log, err := o.rtConfig(stderr)
	if err != nil {
		fmt.Fprintf(stderr, "rtbridge rt: %v\n", err)
		return rtConfigExit(err)
	}
	if c.API == "rest2" {
		return o.rest2(ctx, c, log, args[0], pos[0], stdout, stderr)
	}
	if args[0] != "get" && args[0] != "post" {
		fmt.Fprintf(stderr, "rtbridge rt %s: only with --api rest2 (REST 1.0 has get and post)\n", args[0])
		return 2
	}
	if o.data != "" {
		fmt.Fprintln(stderr, "rtbridge rt post: --data is for --api rest2; REST 1.0 takes -f KEY=VALUE and -a FILE")
		return 2
	}
	client, err := daemon.NewRTClient(c, nil, log)
	if err != nil {
		fmt.Fprintf(stderr, "rtbridge rt: %v\n", err)
		return 2
	}
	path := pos[0]
	if args[0] == "get" && strings.HasSuffix(strings.TrimRight(path, "/"), "/content") {
		return rtContent(ctx, client, path, stdout, stderr)
	}
	var resp *form.Response
	if args[0] == "get" {
		q, err := keyValues(o.query)
		if err != nil {
			fmt.Fprintf(stderr, "rtbridge rt get: --query: %v\n", err)
			return 2
		}
		resp, err = client.Get(ctx, path, q)
		return writeRTResult(stdout, stderr, resp, err)
	}
	f, atts, err := o.postForm()
	if err != nil {
		fmt.Fprintf(stderr, "rtbridge rt post: %v\n", err)
		return 2
	}
	resp, err = client.Post(ctx, path, f, atts)
	return writeRTResult(stdout, stderr, resp, err)
}

// rtConfigExit is the exit code of an rtConfig error: 1 when a file (the
// config, a secret) could not be read or loaded, 2 for a usage error.
func rtConfigExit(err error) int {
	var ce *config.Error
	var pe *fs.PathError
	if errors.As(err, &ce) || errors.As(err, &pe) {
		return exitFailure
	}
	return exitUsage
}

// rtConfig builds the RT connection from config file, environment and flags.
func (o *rtOptions) rtConfig(stderr io.Writer) (config.RT, *slog.Logger, error) {
	var c config.RT
	configFile := o.configFile
	if configFile == "" && o.url == "" && os.Getenv("RTBRIDGE_RT_URL") == "" {
		// Nothing names an RT: on the daemon's host, use its config.
		if _, err := os.Stat(defaultConfig); err == nil {
			configFile = defaultConfig
		}
	}
	if configFile != "" {
		cfg, err := config.Load(configFile)
		if err != nil {
			return c, nil, err
		}
		c = cfg.RT
	}
	override := func(dst *string, env, flagVal string) {
		if v := os.Getenv(env); v != "" {
			*dst = v
		}
		if flagVal != "" {
			*dst = flagVal
		}
	}
	override(&c.URL, "RTBRIDGE_RT_URL", o.url)
	override(&c.User, "RTBRIDGE_RT_USER", o.user)
	override(&c.Auth, "RTBRIDGE_RT_AUTH", o.auth)
	override(&c.API, "RTBRIDGE_RT_API", o.api)
	for _, s := range []struct {
		what, env, flag string
		dst             *config.Secret
	}{{"password", "RTBRIDGE_RT_PASSWORD_FILE", o.passwordFile, &c.Password}, {"token", "RTBRIDGE_RT_TOKEN_FILE", o.tokenFile, &c.Token}} {
		file := ""
		if override(&file, s.env, s.flag); file == "" {
			continue
		}
		v, err := config.ReadSecretFile(file)
		if err != nil {
			return c, nil, fmt.Errorf("%s file: %w", s.what, err)
		}
		*s.dst = v
	}
	if c.URL == "" {
		return c, nil, errors.New("no RT URL: give --url, RTBRIDGE_RT_URL or --config (" + defaultConfig + " is used when it exists)")
	}
	if configFile == "" {
		flagDefaults(&c)
	}
	if c.API != "rest1" && c.API != "rest2" {
		return c, nil, fmt.Errorf("unknown --api %q (use rest1 or rest2)", c.API)
	}
	if o.timeout > 0 {
		c.Timeout = o.timeout
	}
	switch c.Auth {
	case "token":
		if c.Token == "" {
			return c, nil, errors.New("auth token needs --token-file (or RTBRIDGE_RT_TOKEN_FILE, rt.token_file)")
		}
	case "kerberos":
		// Principal and credentials from rt.kerberos (keytab, password file,
		// ccache), else --user with --password-file or $KRB5CCNAME.
		if c.User == "" && c.Kerberos == nil {
			return c, nil, errors.New("auth kerberos needs the rt.kerberos block of --config, or --user")
		}
	case "basic", "query", "cookie":
		if c.User == "" {
			return c, nil, fmt.Errorf("auth %s needs --user", c.Auth)
		}
		if c.Password == "" {
			return c, nil, fmt.Errorf("auth %s needs --password-file (or RTBRIDGE_RT_PASSWORD_FILE, rt.password_file)", c.Auth)
		}
	default:
		return c, nil, fmt.Errorf("unknown --auth %q (use cookie, query, basic, token or kerberos)", c.Auth)
	}
	log := slog.New(slog.DiscardHandler)
	if o.verbose {
		log = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return c, log, nil
}

// flagDefaults completes a connection given only by flags and environment
// (a loaded config has bridge/config's defaults already): bridge/config's
// own, except that a token alone means token auth.
func flagDefaults(c *config.RT) {
	if c.Auth == "" && c.Password == "" && c.Token != "" {
		c.Auth = "token"
	}
	c.ApplyDefaults()
}

func keyValues(items []string) (url.Values, error) {
	q := url.Values{}
	for _, it := range items {
		k, v, ok := strings.Cut(it, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("%q is not KEY=VALUE", it)
		}
		q.Add(k, v)
	}
	return q, nil
}

func (o *rtOptions) postForm() (form.Form, []rtapi.Attachment, error) {
	var f form.Form
	for _, it := range o.fields {
		k, v, ok := strings.Cut(it, "=")
		if !ok || k == "" {
			return nil, nil, fmt.Errorf("-f %q is not KEY=VALUE", it)
		}
		if err := form.ValidKey(k); err != nil {
			return nil, nil, err
		}
		f.Add(k, v)
	}
	var atts []rtapi.Attachment
	for _, name := range o.files {
		if _, err := os.Stat(name); err != nil {
			return nil, nil, fmt.Errorf("-a: %w", err)
		}
		ct := cmp.Or(mime.TypeByExtension(filepath.Ext(name)), "application/octet-stream")
		atts = append(atts, rtapi.Attachment{Name: filepath.Base(name), ContentType: ct,
			Open: func() (io.ReadCloser, error) { return os.Open(name) }})
	}
	return f, atts, nil
}

// rtResult is the JSON printed by "rtbridge rt".
type rtResult struct {
	Status     int           `json:"status"`
	StatusText string        `json:"status_text"`
	Records    [][][2]string `json:"records"`
	Comments   []string      `json:"comments"`
	Lines      []string      `json:"lines,omitempty"`
	Form       [][][2]string `json:"form,omitempty"` // a 409's echo of the submitted form
	Error      string        `json:"error,omitempty"`
	Errors     [][2]string   `json:"errors,omitempty"`
	Partial    bool          `json:"partial,omitempty"`
	Kind       string        `json:"kind,omitempty"`
}

// writeRTResult prints resp in python-rtkit's parsed shape (the RT client
// library whose users' scripts read "records"): the objects RT
// says it created or updated as [["id","ticket/17"]] records first, then
// the answer's own records; for a 409 the records are RT's per-field errors
// and the echoed form goes to "form".
func writeRTResult(stdout, stderr io.Writer, resp *form.Response, err error) int {
	out := rtResult{Records: [][][2]string{}, Comments: []string{}}
	var fields [][][2]string
	if resp != nil {
		out.Status, out.StatusText = resp.Code, resp.Text
		for _, id := range rtapi.ObjectIDs(resp) {
			out.Records = append(out.Records, [][2]string{{"id", id}})
		}
		for _, rec := range resp.Records {
			var kv [][2]string
			for _, f := range rec.Fields {
				kv = append(kv, [2]string{f.Key, f.Value})
			}
			if len(kv) > 0 {
				fields = append(fields, kv)
			}
			out.Comments = append(out.Comments, rec.Comments...)
			out.Lines = append(out.Lines, rec.Lines...)
		}
	}
	var e *rtapi.Error
	if err != nil {
		out.Error = err.Error()
		if errors.As(err, &e) {
			if e.Code != 0 {
				out.Status = e.Code
			}
			if e.Text != "" {
				out.StatusText = e.Text
			}
			for _, fe := range e.FieldErrors {
				out.Errors = append(out.Errors, [2]string{fe.Field, fe.Message})
			}
			out.Partial = e.Partial
			out.Kind = e.Kind.String()
		}
	}
	if e != nil && e.Code == 409 {
		out.Records, out.Form = [][][2]string{}, fields
		if len(out.Errors) > 0 {
			out.Records = append(out.Records, out.Errors)
		}
	} else {
		out.Records = append(out.Records, fields...)
	}
	return printRT(stdout, stderr, out, err)
}

// printRT prints one answer of "rtbridge rt" as a JSON line; the exit code
// is 1 when RT refused (err) or the answer could not be printed.
func printRT(stdout, stderr io.Writer, out any, err error) int {
	if werr := json.NewEncoder(stdout).Encode(out); werr != nil {
		fmt.Fprintf(stderr, "rtbridge rt: %v\n", werr)
		return exitFailure
	}
	if err != nil {
		return exitFailure
	}
	return exitOK
}

func rtContent(ctx context.Context, c *rtapi.Client, path string, stdout, stderr io.Writer) int {
	_, body, err := c.Content(ctx, path)
	if err != nil {
		return writeRTResult(stdout, stderr, nil, err)
	}
	defer body.Close()
	if _, err := io.Copy(stdout, body); err != nil {
		fmt.Fprintf(stderr, "rtbridge rt: reading %s: %v\n", path, err)
		return 1
	}
	return 0
}
