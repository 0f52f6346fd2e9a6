package config

import (
	"errors"
	"fmt"
	"net"
	"reflect"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// IMAP is one mailbox account; every folder of it becomes one source.
//
//	imap:
//	  - name: support
//	    address: imap.example.org:993
//	    tls: implicit            # implicit (default), starttls, none
//	    username: rt-support
//	    password_file: /etc/rtbridge/imap.pass
//	    folders: [INBOX, Vendors]
//	    disposition: "move: Processed"   # seen (default), delete, move: FOLDER
//	    failure_folder: Failed
type IMAP struct {
	Name    string `yaml:"name"`    // source name prefix; a folder's source is NAME/FOLDER
	Address string `yaml:"address"` // host:port
	TLS     string `yaml:"tls"`     // implicit (default), starttls, none
	// AllowPlaintext must be set for tls: none, so credentials never cross
	// the network in clear by accident.
	AllowPlaintext bool     `yaml:"allow_plaintext"`
	CAFile         string   `yaml:"ca_file"`
	ServerName     string   `yaml:"server_name"` // TLS name to verify; default the host of address
	Username       string   `yaml:"username"`
	Password       Secret   `yaml:"password"`
	PasswordFile   string   `yaml:"password_file"`
	Folders        []string `yaml:"folders"` // default [INBOX]
	// Idle uses IMAP IDLE when the server offers it (default true); the poll
	// interval still applies as a safety net.
	Idle         *bool         `yaml:"idle"`
	PollInterval time.Duration `yaml:"poll_interval"` // default 60s
	BatchSize    int           `yaml:"batch_size"`    // messages fetched per round; default 50
	// MaxMessageBytes: a larger message is accepted with its header only
	// (and stays in the mailbox); default 128 MiB, so a 50 MB attachment
	// (about 69 MB as base64) still comes in whole. The message streams to
	// disk, so the limit bounds disk, not memory.
	MaxMessageBytes int64 `yaml:"max_message_bytes"`
	// Disposition once RT has the message: seen, delete or "move: FOLDER".
	Disposition string `yaml:"disposition"`
	// TrashFolder is where delete moves mail on servers without UIDPLUS
	// (a bare EXPUNGE would also remove other clients' \Deleted mail).
	TrashFolder string `yaml:"trash_folder"`
	// FailureFolder receives dead-lettered mail; empty leaves it in place.
	FailureFolder string `yaml:"failure_folder"`

	// The mail policy applied before the rules (bridge/mailflow).

	// RTNames are the rtnames of the RT this bridge feeds ($rtname): a mail
	// whose X-RT-Loop-Prevention header names one came from that RT and is
	// dropped as a loop. Empty: no loop detection.
	RTNames []string `yaml:"rt_names"`
	// AutoReply decides what automatic mail (auto-replies, bounces, bulk and
	// list mail) may do: thread (default) lets it comment on the ticket it
	// threads into but never open one; ignore drops it; allow treats it
	// like any mail.
	AutoReply string `yaml:"auto_reply"`
	// HTML decides how HTML-only mail reaches RT: keep (default) sends the
	// HTML as text/html; text converts it to plain text.
	HTML string `yaml:"html"`
	// EmptySubject is the subject of mail without one (default
	// "(no subject)"); rules see it as .Subject.
	EmptySubject string `yaml:"empty_subject"`
}

// IMAP defaults.
const (
	DefaultIMAPPoll       = 60 * time.Second
	DefaultIMAPBatch      = 50
	DefaultIMAPMaxMessage = 128 << 20
	DefaultEmptySubject   = "(no subject)"
)

// DispositionMode returns the disposition kind (seen, delete, move) and, for
// move, the folder.
func (m IMAP) DispositionMode() (mode, folder string) {
	d := strings.TrimSpace(m.Disposition)
	if k, f, ok := strings.Cut(d, ":"); ok && strings.TrimSpace(k) == "move" {
		return "move", strings.TrimSpace(f)
	}
	return d, ""
}

// UseIdle reports whether IDLE is wanted.
func (m IMAP) UseIdle() bool { return m.Idle == nil || *m.Idle }

// IMAPSources decodes, completes and checks the imap section. Problems are
// reported like Load's, FILE:LINE:COL each, all at once.
func (c *Config) IMAPSources() ([]IMAP, error) {
	if c.IMAP.Kind == 0 {
		return nil, nil
	}
	d := &decoder{file: c.File, lookup: osLookup, pos: map[string]*yaml.Node{}, root: &c.IMAP}
	var list []IMAP
	d.walk(&c.IMAP, reflect.ValueOf(&list).Elem(), "imap")
	for i := range list {
		d.completeIMAP(c, &list[i], fmt.Sprintf("imap[%d]", i))
	}
	names := map[string]bool{}
	for i, m := range list {
		p := fmt.Sprintf("imap[%d]", i)
		if names[m.Name] {
			d.errorf(d.at(p+".name"), p+".name", "%q is used by another imap account", m.Name)
		}
		names[m.Name] = true
	}
	if len(d.errs) > 0 {
		return nil, errors.Join(d.errs...)
	}
	return list, nil
}

func (d *decoder) completeIMAP(c *Config, m *IMAP, p string) {
	setDefault(&m.TLS, "implicit")
	setDefault(&m.PollInterval, DefaultIMAPPoll)
	setDefault(&m.BatchSize, DefaultIMAPBatch)
	setDefault(&m.MaxMessageBytes, DefaultIMAPMaxMessage)
	setDefault(&m.Disposition, "seen")
	setDefault(&m.AutoReply, "thread")
	setDefault(&m.HTML, "keep")
	setDefault(&m.EmptySubject, DefaultEmptySubject)
	if len(m.Folders) == 0 {
		m.Folders = []string{"INBOX"}
	}
	d.secret(c, &m.Password, &m.PasswordFile, p, "password")
	if m.CAFile != "" && !strings.HasPrefix(m.CAFile, "/") {
		m.CAFile = c.Dir() + "/" + m.CAFile
	}
	host, _, err := net.SplitHostPort(m.Address)
	if err != nil || host == "" {
		d.errorf(d.at(p+".address"), p+".address", "must be host:port (e.g. imap.example.org:993); got %q", m.Address)
	}
	if m.Name == "" {
		m.Name = m.Username + "@" + host
	}
	switch m.TLS {
	case "implicit", "starttls":
	case "none":
		if !m.AllowPlaintext {
			d.errorf(d.at(p+".tls"), p+".tls", "none sends the password in clear; also set allow_plaintext: true if that is really wanted")
		}
	default:
		d.errorf(d.at(p+".tls"), p+".tls", "must be implicit, starttls or none; got %q", m.TLS)
	}
	if m.Username == "" || m.Password == "" {
		d.errorf(d.at(p), p, "needs username and password (or password_file)")
	}
	for j, f := range m.Folders {
		if strings.TrimSpace(f) == "" {
			d.errorf(d.at(fmt.Sprintf("%s.folders[%d]", p, j)), p+".folders", "empty folder name")
		}
	}
	if m.PollInterval < time.Second {
		d.errorf(d.at(p+".poll_interval"), p+".poll_interval", "must be at least 1s")
	}
	if m.BatchSize < 1 {
		d.errorf(d.at(p+".batch_size"), p+".batch_size", "must be at least 1")
	}
	if m.MaxMessageBytes < 1024 {
		d.errorf(d.at(p+".max_message_bytes"), p+".max_message_bytes", "must be at least 1024")
	}
	switch m.AutoReply {
	case "thread", "ignore", "allow":
	default:
		d.errorf(d.at(p+".auto_reply"), p+".auto_reply", "must be thread, ignore or allow; got %q", m.AutoReply)
	}
	switch m.HTML {
	case "keep", "text":
	default:
		d.errorf(d.at(p+".html"), p+".html", "must be keep or text; got %q", m.HTML)
	}
	for j, n := range m.RTNames {
		if strings.TrimSpace(n) == "" {
			d.errorf(d.at(fmt.Sprintf("%s.rt_names[%d]", p, j)), p+".rt_names", "empty rtname")
		}
	}
	switch mode, folder := m.DispositionMode(); mode {
	case "seen", "delete":
	case "move":
		if folder == "" {
			d.errorf(d.at(p+".disposition"), p+".disposition", `move needs a folder: "move: Processed"`)
		}
	default:
		d.errorf(d.at(p+".disposition"), p+".disposition", `must be seen, delete or "move: FOLDER"; got %q`, m.Disposition)
	}
}
