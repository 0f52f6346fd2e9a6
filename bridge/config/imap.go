package config

import (
	"fmt"
	"net"
	"path"
	"regexp"
	"strings"
	"time"
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
	Auth           string   `yaml:"auth"`    // password (default) or oauth2
	OAuth2         *OAuth2  `yaml:"oauth2"`  // settings of auth: oauth2
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
	// CreateFolders creates the move, failure and trash folders that do not
	// exist yet when the source connects (default false: a missing folder
	// makes the source degraded until someone creates it).
	CreateFolders bool `yaml:"create_folders"`

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

	// Requestor picks the requestor of a ticket a rule's create opens
	// without requestors:, like RT's mailgate: reply-to (default: the
	// Reply-To address, else From) or from (From, else Reply-To).
	Requestor string `yaml:"requestor"`
	// Cc lists the headers whose addresses become the new ticket's Cc when
	// the rule's create has no cc: (to, cc). Empty (default): none, as RT
	// without $ParseNewMessageForTicketCcs.
	Cc []string `yaml:"cc"`
	// IgnoreAddresses never become requestor or Cc by default: the
	// mailbox's own and RT's queue addresses (RT's $RTAddressRegexp).
	// Exact addresses or patterns ("*@rt.example.com"), case ignored. The
	// username is added when it is an address.
	IgnoreAddresses []string `yaml:"ignore_addresses"`
	// SubjectTags (default true) turns a reply to RT into a correspondence
	// (or comment, TaggedReply) on its ticket before any rule runs: a
	// subject tag "[rtname #123]" (rt_names, SubjectTagRegex) or a
	// reference to one of RT's own Message-IDs. false leaves such mail to
	// the rules.
	SubjectTags *bool `yaml:"subject_tags"`
	// SubjectTagRegex matches further tag names, like RT's
	// $EmailSubjectTagRegex (RE2 syntax), e.g. 'rt\.example\.(com|org)'.
	SubjectTagRegex string `yaml:"subject_tag_regex"`
	// TaggedReply is what a reply to RT becomes: correspond (default) or
	// comment. Automatic mail always becomes a comment, so RT does not
	// mail an auto-responder back.
	TaggedReply string `yaml:"tagged_reply"`
	// RTOrganization is RT's $Organization, the domain of the Message-IDs
	// RT sends (<rt-…-TICKET-…@ORG>, <RT-Ticket-N@ORG>). Default: rt_names.
	RTOrganization string `yaml:"rt_organization"`
	// ReplySenders may reply to any ticket by subject tag or RT
	// Message-ID, watcher or not: addresses or patterns ("*@example.com"),
	// or a bare domain ("example.com"), case ignored. Anyone else must be a
	// requestor, Cc or AdminCc of the ticket, as RT's own mail gateway
	// requires of a sender without rights.
	ReplySenders []string `yaml:"reply_senders"`
	// StrangerReply is what a reply from anyone else becomes: new_ticket
	// (default: a ticket of its own, through the rules, saying which
	// ticket it claimed to answer) or dead_letter. Never a comment or
	// correspondence on the claimed ticket.
	StrangerReply string `yaml:"stranger_reply"`
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

// UseSubjectTags reports whether replies to RT are recognised built in.
func (m IMAP) UseSubjectTags() bool { return m.SubjectTags == nil || *m.SubjectTags }

// UseIdle reports whether IDLE is wanted.
func (m IMAP) UseIdle() bool { return m.Idle == nil || *m.Idle }

// applyDefaults completes one account; the name defaults to
// USERNAME@HOST.
func (m *IMAP) applyDefaults() {
	setDefault(&m.TLS, "implicit")
	setDefault(&m.PollInterval, DefaultIMAPPoll)
	setDefault(&m.BatchSize, DefaultIMAPBatch)
	setDefault(&m.MaxMessageBytes, DefaultIMAPMaxMessage)
	setDefault(&m.Disposition, "seen")
	setDefault(&m.AutoReply, "thread")
	setDefault(&m.HTML, "keep")
	setDefault(&m.EmptySubject, DefaultEmptySubject)
	setDefault(&m.Requestor, "reply-to")
	setDefault(&m.TaggedReply, "correspond")
	setDefault(&m.StrangerReply, "new_ticket")
	m.applyAuthDefaults()
	if len(m.Folders) == 0 {
		m.Folders = []string{"INBOX"}
	}
	if host, _, err := net.SplitHostPort(m.Address); err == nil && m.Name == "" {
		m.Name = m.Username + "@" + host
	}
}

func (d *decoder) validateIMAP(c *Config) {
	names := map[string]bool{}
	for i := range c.IMAP {
		m, p := &c.IMAP[i], fmt.Sprintf("imap[%d]", i)
		if names[m.Name] {
			d.errorf(d.at(p+".name"), p+".name", "%q is used by another imap account", m.Name)
		}
		names[m.Name] = true
		d.checkIMAP(m, p)
	}
}

func (d *decoder) checkIMAP(m *IMAP, p string) {
	if host, _, err := net.SplitHostPort(m.Address); err != nil || host == "" {
		d.errorf(d.at(p+".address"), p+".address", "must be host:port (e.g. imap.example.org:993); got %q", m.Address)
	}
	d.oneOf(p+".tls", m.TLS, "implicit", "starttls", "none")
	if m.TLS == "none" && !m.AllowPlaintext {
		d.errorf(d.at(p+".tls"), p+".tls", "none sends the password in clear; also set allow_plaintext: true if that is really wanted")
	}
	d.checkAuth(m, p)
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
	d.oneOf(p+".auto_reply", m.AutoReply, "thread", "ignore", "allow")
	d.oneOf(p+".html", m.HTML, "keep", "text")
	for j, n := range m.RTNames {
		if strings.TrimSpace(n) == "" {
			d.errorf(d.at(fmt.Sprintf("%s.rt_names[%d]", p, j)), p+".rt_names", "empty rtname")
		}
	}
	d.checkMailPeople(m, p)
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

// checkMailPeople checks the requestor, Cc and RT reply keys.
func (d *decoder) checkMailPeople(m *IMAP, p string) {
	d.oneOf(p+".requestor", m.Requestor, "reply-to", "from")
	for j, h := range m.Cc {
		if h != "to" && h != "cc" {
			d.errorf(d.at(fmt.Sprintf("%s.cc[%d]", p, j)), p+".cc", "must list to and/or cc; got %q", h)
		}
	}
	for j, a := range m.IgnoreAddresses {
		if _, err := path.Match(strings.ToLower(a), ""); err != nil || strings.TrimSpace(a) == "" {
			d.errorf(d.at(fmt.Sprintf("%s.ignore_addresses[%d]", p, j)), p+".ignore_addresses", "%q is not an address or pattern", a)
		}
	}
	d.oneOf(p+".tagged_reply", m.TaggedReply, "correspond", "comment")
	for j, a := range m.ReplySenders {
		if !replySender(a) {
			d.errorf(d.at(fmt.Sprintf("%s.reply_senders[%d]", p, j)), p+".reply_senders", "%q is not an address, pattern or domain", a)
		}
	}
	d.oneOf(p+".stranger_reply", m.StrangerReply, "new_ticket", "dead_letter")
	if m.SubjectTagRegex != "" {
		if _, err := regexp.Compile(m.SubjectTagRegex); err != nil {
			d.errorf(d.at(p+".subject_tag_regex"), p+".subject_tag_regex", "%v", err)
		}
	}
	if m.SubjectTags != nil && *m.SubjectTags && len(m.RTNames) == 0 && m.SubjectTagRegex == "" {
		d.errorf(d.at(p+".subject_tags"), p+".subject_tags", "needs rt_names or subject_tag_regex to know RT's tags")
	}
}

// replySender reports whether a is a usable reply_senders entry: a
// path.Match pattern without spaces or commas.
func replySender(a string) bool {
	if a == "" || strings.ContainsAny(a, " \t\r\n,;<>\"") {
		return false
	}
	_, err := path.Match(strings.ToLower(a), "")
	return err == nil
}
