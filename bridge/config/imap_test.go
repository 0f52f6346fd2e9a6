package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func loadIMAP(t *testing.T, imap string) ([]IMAP, error) {
	t.Helper()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "imap.pass"), []byte("from-file\n"), 0o600)
	path := filepath.Join(dir, "c.yaml")
	body := "rt:\n  url: http://127.0.0.1:18080/\n  auth: token\n  token: t\nimap:\n" + imap
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := load(path, testEnv, false)
	if err != nil {
		return nil, err
	}
	return c.IMAP, nil
}

func TestIMAPSourcesDefaults(t *testing.T) {
	list, err := loadIMAP(t, `  - address: imap.example.org:993
    username: rt
    password_file: imap.pass
  - name: vendors
    address: imap.example.org:143
    tls: starttls
    username: v
    password: inline
    folders: [INBOX, Vendors]
    idle: false
    poll_interval: 5s
    disposition: "move: Done"
    failure_folder: Failed
    rt_names: [rt.example.com]
    auto_reply: ignore
    html: text
    empty_subject: none given
    ca_file: ca.pem
`)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 {
		t.Fatalf("%d accounts", len(list))
	}
	a := list[0]
	if a.Name != "rt@imap.example.org" || a.TLS != "implicit" || string(a.Password) != "from-file" ||
		len(a.Folders) != 1 || a.Folders[0] != "INBOX" || !a.UseIdle() || a.PollInterval != DefaultIMAPPoll ||
		a.BatchSize != DefaultIMAPBatch || a.MaxMessageBytes != DefaultIMAPMaxMessage || a.Disposition != "seen" ||
		a.AutoReply != "thread" || a.HTML != "keep" || a.EmptySubject != DefaultEmptySubject || len(a.RTNames) != 0 {
		t.Errorf("defaults: %+v", a)
	}
	b := list[1]
	mode, folder := b.DispositionMode()
	if b.Name != "vendors" || b.UseIdle() || b.PollInterval != 5*time.Second || mode != "move" || folder != "Done" ||
		b.AutoReply != "ignore" || b.HTML != "text" || b.EmptySubject != "none given" || b.RTNames[0] != "rt.example.com" ||
		!filepath.IsAbs(b.CAFile) || len(b.Folders) != 2 {
		t.Errorf("explicit: %+v", b)
	}
}

func TestIMAPSourcesErrors(t *testing.T) {
	_, err := loadIMAP(t, `  - name: a
    address: no-port
    tls: none
    username: u
    folders: [""]
    poll_interval: 10ms
    batch_size: -1
    max_message_bytes: 10
    disposition: archive
    auto_reply: sometimes
    html: pdf
    rt_names: [" "]
  - name: a
    address: h:1
    username: u
    password: p
    disposition: "move:"
`)
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"imap[0].address: must be host:port", "allow_plaintext", "needs username and password",
		"empty folder name", "poll_interval: must be at least 1s", "batch_size", "max_message_bytes",
		`must be seen, delete or "move: FOLDER"`, "auto_reply: must be thread, ignore or allow", "html: must be keep or text",
		"empty rtname", `imap[1].name: "a" is used by another imap account`, "move needs a folder", "c.yaml:"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

func TestIMAPCreateFolders(t *testing.T) {
	list, err := loadIMAP(t, "  - address: h:993\n    username: u\n    password: p\n    create_folders: true\n")
	if err != nil || !list[0].CreateFolders {
		t.Fatalf("create_folders: true: %+v %v", list, err)
	}
	if list, _ := loadIMAP(t, "  - address: h:993\n    username: u\n    password: p\n"); list[0].CreateFolders {
		t.Error("create_folders defaults to true")
	}
	_, err = loadIMAP(t, "  - address: h:993\n    username: u\n    password: p\n    create_folders: sometimes\n")
	if err == nil || !strings.Contains(err.Error(), "c.yaml:9:21") {
		t.Errorf("create_folders: sometimes: %v, want an error at c.yaml:9:21", err)
	}
}
