package webhook

import (
	"net"
	"sync"

	"golang.org/x/net/netutil"
)

// LimitListener caps the connections ln hands out: at most total open at
// once (further ones wait in the kernel's accept queue, costing no
// goroutine or buffer), and at most perClient from one IP address (further
// ones are closed at once, so one client cannot take every slot). Zero
// means no limit.
func LimitListener(ln net.Listener, total, perClient int) net.Listener {
	if perClient > 0 {
		ln = &clientLimit{Listener: ln, max: perClient, open: map[string]int{}}
	}
	if total > 0 {
		// Outside the per-client limit: a refused connection takes no slot.
		ln = netutil.LimitListener(ln, total)
	}
	return ln
}

type clientLimit struct {
	net.Listener
	max  int
	mu   sync.Mutex
	open map[string]int // IP -> open connections
}

func (l *clientLimit) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		ip := clientIP(c.RemoteAddr())
		l.mu.Lock()
		if l.open[ip] >= l.max {
			l.mu.Unlock()
			c.Close()
			continue
		}
		l.open[ip]++
		l.mu.Unlock()
		return &clientConn{Conn: c, release: func() { l.release(ip) }}, nil
	}
}

func (l *clientLimit) release(ip string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open[ip]--; l.open[ip] <= 0 {
		delete(l.open, ip)
	}
}

func clientIP(a net.Addr) string {
	if ta, ok := a.(*net.TCPAddr); ok {
		return ta.IP.String()
	}
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	return host
}

// clientConn gives its slot back on the first Close.
type clientConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *clientConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
