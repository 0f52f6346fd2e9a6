package store

import (
	"crypto/rand"
	"sync"
	"time"
)

// crockford is Crockford's base32: sortable as text, no ambiguous letters.
const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// IDGen makes 26-character event ids (the zero value is ready; safe for
// concurrent use): 48 bits of Unix milliseconds then 80 bits
// that are random for a new millisecond and incremented within one, so ids
// sort in the order they were made even when the clock stands still or
// steps back (ULID's layout; a dozen lines did not justify a dependency).
type IDGen struct {
	mu   sync.Mutex
	last int64
	tail [10]byte
}

func (g *IDGen) Next(now time.Time) string {
	g.mu.Lock()
	defer g.mu.Unlock()
	t := now.UnixMilli()
	if t > g.last {
		g.last = t
		rand.Read(g.tail[:])
		g.tail[0] &= 0x7f // leave room to increment within the millisecond
	} else {
		for i := len(g.tail) - 1; i >= 0; i-- {
			g.tail[i]++
			if g.tail[i] != 0 {
				break
			}
		}
	}
	var b [16]byte
	ts := uint64(g.last)
	for i := 5; i >= 0; i-- {
		b[i] = byte(ts)
		ts >>= 8
	}
	copy(b[6:], g.tail[:])
	return encode(b)
}

// encode writes 128 bits as 26 base32 digits, most significant first.
func encode(b [16]byte) string {
	var out [26]byte
	// 26*5 = 130 bits: the top digit carries the 3 high bits.
	var acc uint64
	var bits uint
	pos := 25
	for i := 15; i >= 0; i-- {
		acc |= uint64(b[i]) << bits
		bits += 8
		for bits >= 5 && pos >= 0 {
			out[pos] = crockford[acc&31]
			acc >>= 5
			bits -= 5
			pos--
		}
	}
	for pos >= 0 {
		out[pos] = crockford[acc&31]
		acc >>= 5
		pos--
	}
	return string(out[:])
}
