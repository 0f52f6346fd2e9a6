package daemon

import (
	"reflect"

	"github.com/rtbridge/rtbridge/bridge/config"
)

// rtSettings is the rt section without its secret values: when only those
// (or the contents of the keytab and password files) changed, a reload
// swaps in the RT client it built.
func rtSettings(r config.RT) config.RT {
	r.Password, r.Token = "", ""
	if r.Kerberos != nil {
		k := *r.Kerberos // a copy: the loaded config keeps its password
		k.Password = ""
		r.Kerberos = &k
	}
	return r
}

// imapSettings is the imap section without the passwords.
func imapSettings(accts []config.IMAP) []config.IMAP {
	out := make([]config.IMAP, len(accts))
	for i, a := range accts {
		a.Password = ""
		out[i] = a
	}
	return out
}

// passwordSetter is an IMAP source that takes a new password for its next
// login (imapsource.Source).
type passwordSetter interface {
	Name() string
	SetPassword(config.Secret)
}

// applySecrets hands the running parts the credentials a reload read: the
// executor gets the RT client built from them (requests in flight finish
// on the old one), IMAP sources their new password for the next login.
// Sections whose other settings changed keep running as they are until a
// restart (restartNeeded names them).
func (d *daemon) applySecrets(old, cur *config.Config, parts *Parts) {
	if reflect.DeepEqual(rtSettings(old.RT), rtSettings(cur.RT)) {
		d.x.SetRT(parts.RT)
		d.log.Info("reload: RT client rebuilt with the credentials read now", "auth", cur.RT.Auth)
	}
	if !reflect.DeepEqual(imapSettings(old.IMAP), imapSettings(cur.IMAP)) {
		return
	}
	pw := map[string]config.Secret{}
	for _, a := range cur.IMAP {
		for _, f := range a.Folders {
			pw[a.Name+"/"+f] = a.Password
		}
	}
	for _, s := range d.sources {
		if ps, ok := s.(passwordSetter); ok {
			if p, ok := pw[ps.Name()]; ok {
				ps.SetPassword(p)
			}
		}
	}
}
