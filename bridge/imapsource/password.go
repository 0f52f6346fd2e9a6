package imapsource

import (
	"sync"

	"github.com/rtbridge/rtbridge/bridge/config"
)

// password is the account password, replaceable while the source runs.
type password struct {
	mu sync.Mutex
	p  config.Secret
}

// SetPassword replaces the password for the next login (a reload with a
// rotated secret); a session already logged in goes on.
func (s *Source) SetPassword(p config.Secret) {
	s.pw.mu.Lock()
	s.pw.p = p
	s.pw.mu.Unlock()
}

func (s *Source) password() string {
	s.pw.mu.Lock()
	defer s.pw.mu.Unlock()
	return string(s.pw.p)
}
