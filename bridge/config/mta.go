package config

import (
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"strings"
)

// MTA is mail handed over by the local MTA: `rtbridge mailgate` (an
// /etc/aliases pipe, like RT's rt-mailgate) over a unix socket, and an LMTP
// listener. Both are one source.
//
//	mta:
//	  name: mta
//	  mailgate: { socket: /run/rtbridge/mailgate.sock, mode: "0660", group: rtbridge-mail }
//	  lmtp:
//	    listen: unix:/run/rtbridge/lmtp.sock    # or 127.0.0.1:2424
//	    mode: "0660"
//	    group: postfix
//	    routes:
//	      - { recipient: support@rt.example.com, queue: General, action: correspond }
//	      - { recipient: "*@rt.example.com", extension: queue }
//	  rt_names: [rt.example.com]
type MTA struct {
	Name     string        `yaml:"name"` // source name; default "mta"
	Mailgate *MTAMailgate  `yaml:"mailgate"`
	LMTP     *LMTPListener `yaml:"lmtp"`
	// MaxMessageBytes bounds one mail (LMTP answers 552, the mailgate's
	// MTA bounces it); default 64 MiB.
	MaxMessageBytes int64 `yaml:"max_message_bytes"`
	// DefaultQueue is the queue of mail that names none (rt-mailgate
	// without --queue: RT's queue 1); default General.
	DefaultQueue string `yaml:"default_queue"`
	// Deliver is how mail no rule matches reaches RT: rest (default: the
	// bridge's RT user files it over REST) or gateway (the raw mail goes to
	// RT's own mail gateway, which applies RT's mail plugins and rights
	// and records the sender as the actor; needs REST2 access to RT for
	// reconciling, i.e. rt.auth token, basic or kerberos).
	Deliver string `yaml:"deliver"`

	// The mail policy applied before the rules (bridge/mailflow), with the
	// same keys and meaning as an imap account's.
	RTNames         []string `yaml:"rt_names"`
	AutoReply       string   `yaml:"auto_reply"`
	HTML            string   `yaml:"html"`
	EmptySubject    string   `yaml:"empty_subject"`
	Requestor       string   `yaml:"requestor"`
	Cc              []string `yaml:"cc"`
	IgnoreAddresses []string `yaml:"ignore_addresses"`
	SubjectTags     *bool    `yaml:"subject_tags"`
	SubjectTagRegex string   `yaml:"subject_tag_regex"`
	RTOrganization  string   `yaml:"rt_organization"`
}

// MTAMailgate is the unix socket `rtbridge mailgate` hands mail to.
type MTAMailgate struct {
	Socket string `yaml:"socket"` // default /run/rtbridge/mailgate.sock
	// Mode and Group let the MTA's pipe user (Postfix: default_privs,
	// nobody) connect; default 0660 and the daemon's group.
	Mode  string `yaml:"mode"`
	Group string `yaml:"group"`
}

// LMTPListener is the LMTP server: a unix socket (unix:/path) or a
// loopback host:port.
type LMTPListener struct {
	Listen string      `yaml:"listen"`
	Mode   string      `yaml:"mode"`  // unix socket only; default 0660
	Group  string      `yaml:"group"` // unix socket only
	Routes []LMTPRoute `yaml:"routes"`
}

// LMTPRoute maps a recipient to what rt-mailgate's command line would say.
type LMTPRoute struct {
	// Recipient is an address or a pattern (*@rt.example.com), case
	// ignored, matched without its +extension.
	Recipient string `yaml:"recipient"`
	Queue     string `yaml:"queue"`
	Action    string `yaml:"action"` // correspond (default), comment, or a chain such as take-comment
	// Extension says what the recipient's +extension names, as
	// rt-mailgate's --extension: queue, action or ticket.
	Extension string `yaml:"extension"`
}

// MTA defaults.
const (
	DefaultMTAName        = "mta"
	DefaultMailgateSocket = "/run/rtbridge/mailgate.sock"
	DefaultMTAMaxMessage  = 64 << 20
	DefaultSocketMode     = "0660"
)

// SocketMode parses a mode such as "0660".
func SocketMode(s string) (uint32, error) {
	m, err := strconv.ParseUint(s, 8, 32)
	if err != nil || m > 0o777 {
		return 0, fmt.Errorf("mode must be octal permission bits such as 0660; got %q", s)
	}
	return uint32(m), nil
}

// UnixPath returns the socket path of an LMTP listen address, or "" for a
// TCP address.
func (l LMTPListener) UnixPath() string {
	p, ok := strings.CutPrefix(l.Listen, "unix:")
	if !ok {
		return ""
	}
	return p
}

// PolicyIMAP returns the MTA's mail policy in the shape the mail policy
// code reads (an imap account's), named after the source.
func (m MTA) PolicyIMAP() IMAP {
	return IMAP{Name: m.Name, RTNames: m.RTNames, AutoReply: m.AutoReply, HTML: m.HTML, EmptySubject: m.EmptySubject,
		Requestor: m.Requestor, Cc: m.Cc, IgnoreAddresses: m.IgnoreAddresses, SubjectTags: m.SubjectTags,
		SubjectTagRegex: m.SubjectTagRegex, RTOrganization: m.RTOrganization, TaggedReply: "correspond",
		StrangerReply: "new_ticket"}
}

func (d *decoder) completeMTA(c *Config, m *MTA) {
	setDefault(&m.Name, DefaultMTAName)
	setDefault(&m.MaxMessageBytes, DefaultMTAMaxMessage)
	setDefault(&m.DefaultQueue, "General")
	setDefault(&m.Deliver, "rest")
	if m.Deliver != "rest" && m.Deliver != "gateway" {
		d.errorf(d.at("mta.deliver"), "mta.deliver", "must be rest or gateway; got %q", m.Deliver)
	}
	if p := c.RT.GatewayProblem(); m.Deliver == "gateway" && p != "" {
		d.errorf(d.at("mta.deliver"), "mta.deliver", "gateway %s", p)
	}
	if m.Mailgate == nil && m.LMTP == nil {
		d.errorf(d.at("mta"), "mta", "needs mailgate or lmtp (or both)")
	}
	if g := m.Mailgate; g != nil {
		setDefault(&g.Socket, DefaultMailgateSocket)
		setDefault(&g.Mode, DefaultSocketMode)
		d.checkSocket(c, &g.Socket, g.Mode, "mta.mailgate")
	}
	if l := m.LMTP; l != nil {
		setDefault(&l.Mode, DefaultSocketMode)
		if p := l.UnixPath(); p != "" {
			d.checkSocket(c, &p, l.Mode, "mta.lmtp")
			l.Listen = "unix:" + p
		} else if _, _, err := net.SplitHostPort(l.Listen); err != nil {
			d.errorf(d.at("mta.lmtp.listen"), "mta.lmtp.listen", "must be unix:/path or host:port (e.g. 127.0.0.1:2424); got %q", l.Listen)
		}
		if len(l.Routes) == 0 {
			d.errorf(d.at("mta.lmtp"), "mta.lmtp.routes", "needs at least one route (recipient → queue, action)")
		}
		for i := range l.Routes {
			d.checkRoute(&l.Routes[i], fmt.Sprintf("mta.lmtp.routes[%d]", i))
		}
	}
	if m.MaxMessageBytes < 1024 {
		d.errorf(d.at("mta.max_message_bytes"), "mta.max_message_bytes", "must be at least 1024")
	}
	// The policy keys are checked as an imap account's are.
	im := m.PolicyIMAP()
	setDefault(&im.AutoReply, "thread")
	setDefault(&im.HTML, "keep")
	setDefault(&im.EmptySubject, DefaultEmptySubject)
	setDefault(&im.Requestor, "reply-to")
	d.checkMailPeople(&im, "mta")
	m.AutoReply, m.HTML, m.EmptySubject, m.Requestor = im.AutoReply, im.HTML, im.EmptySubject, im.Requestor
	if m.AutoReply != "thread" && m.AutoReply != "ignore" && m.AutoReply != "allow" {
		d.errorf(d.at("mta.auto_reply"), "mta.auto_reply", "must be thread, ignore or allow; got %q", m.AutoReply)
	}
	if m.HTML != "keep" && m.HTML != "text" {
		d.errorf(d.at("mta.html"), "mta.html", "must be keep or text; got %q", m.HTML)
	}
}

// GatewayProblem says why RT's mail gateway cannot be used with this RT
// access, or "": a post nobody answered is found again over REST2.
func (r RT) GatewayProblem() string {
	if r.Auth == "token" || r.Auth == "basic" || r.Auth == "kerberos" {
		return ""
	}
	return fmt.Sprintf("finds an unanswered post again over REST2, which needs rt.auth token, basic or kerberos (got %q)", r.Auth)
}

// MailDeliver maps every mail source to how its mail reaches RT when a
// rule does not say: the mta section's deliver, rest for IMAP folders.
func (c *Config) MailDeliver() map[string]string {
	out := map[string]string{}
	for _, m := range c.IMAP {
		for _, f := range m.Folders {
			out[m.Name+"/"+f] = "rest"
		}
	}
	if m := c.MTA; m != nil {
		out[m.Name] = m.Deliver
	}
	return out
}

// checkSocket makes a socket path absolute and checks its mode.
func (d *decoder) checkSocket(c *Config, path *string, mode, p string) {
	if *path != "" && !filepath.IsAbs(*path) {
		*path = filepath.Join(c.Dir(), *path)
	}
	if *path == "" {
		d.errorf(d.at(p), p, "socket path is empty")
	}
	// sun_path holds 108 bytes with its terminating NUL.
	if len(*path) > 107 {
		d.errorf(d.at(p), p, "socket path %q is longer than 107 bytes", *path)
	}
	if _, err := SocketMode(mode); err != nil {
		d.errorf(d.at(p+".mode"), p+".mode", "%v", err)
	}
}

func (d *decoder) checkRoute(r *LMTPRoute, p string) {
	setDefault(&r.Action, "correspond")
	if strings.TrimSpace(r.Recipient) == "" || !strings.Contains(r.Recipient, "@") {
		d.errorf(d.at(p+".recipient"), p+".recipient", "must be an address or a pattern such as *@rt.example.com; got %q", r.Recipient)
	} else if _, err := filepath.Match(strings.ToLower(r.Recipient), ""); err != nil {
		d.errorf(d.at(p+".recipient"), p+".recipient", "bad pattern %q: %v", r.Recipient, err)
	}
	if err := CheckMailAction(r.Action); err != nil {
		d.errorf(d.at(p+".action"), p+".action", "%v", err)
	}
	switch r.Extension {
	case "", "queue", "action", "ticket":
	default:
		d.errorf(d.at(p+".extension"), p+".extension", "must be queue, action or ticket; got %q", r.Extension)
	}
}

// CheckMailAction checks an rt-mailgate action: correspond, comment, take
// or resolve, chained with "-" (take-comment, correspond-resolve).
func CheckMailAction(a string) error {
	if a == "" {
		return errors.New("action is empty")
	}
	for _, part := range strings.Split(strings.ToLower(a), "-") {
		switch part {
		case "correspond", "comment", "take", "resolve":
		default:
			return fmt.Errorf("unknown action %q in %q (correspond, comment, take, resolve, chained with -)", part, a)
		}
	}
	return nil
}
