package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"os"
	"strconv"
	"time"
)

// NewInstanceID names a process as a lease holder: host, pid and a random
// suffix, so a restarted process never mistakes its predecessor's leases
// for its own.
func NewInstanceID() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "host"
	}
	var rnd [4]byte
	rand.Read(rnd[:])
	return host + ":" + strconv.Itoa(os.Getpid()) + ":" + hex.EncodeToString(rnd[:])
}

// Instance returns the name this store holds leases under.
func (s *Store) Instance() string { return s.opts.Instance }

// AcquireLease takes the named lease for ttl, or renews it when this
// instance holds it already, and reports whether this instance holds it
// now. A lease held by another instance is taken only after it lapsed.
func (s *Store) AcquireLease(ctx context.Context, name string, ttl time.Duration) (bool, error) {
	now := s.opts.Now()
	var held bool
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := s.txExec(ctx, tx, `INSERT INTO leases (name, owner, until, acquired_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET until = excluded.until,
				acquired_at = CASE WHEN leases.owner = excluded.owner THEN leases.acquired_at ELSE excluded.acquired_at END,
				owner = excluded.owner
			WHERE leases.owner = excluded.owner OR leases.until < ?`,
			name, s.opts.Instance, ms(now.Add(ttl)), ms(now), ms(now))
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		held = n > 0
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("store: lease %s: %w", name, err)
	}
	return held, nil
}

// ReleaseLease gives up the named lease if this instance holds it, so
// another instance can take it at once.
func (s *Store) ReleaseLease(ctx context.Context, name string) error {
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := s.txExec(ctx, tx, `DELETE FROM leases WHERE name = ? AND owner = ?`, name, s.opts.Instance)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: release lease %s: %w", name, err)
	}
	return nil
}

// Leases lists the leases that have not lapsed (for status).
func (s *Store) Leases(ctx context.Context) ([]Lease, error) {
	rows, err := s.read(ctx, `SELECT name, owner, until FROM leases WHERE until >= ? ORDER BY name`, ms(s.opts.Now()))
	if err != nil {
		return nil, fmt.Errorf("store: leases: %w", err)
	}
	defer rows.Close()
	var out []Lease
	for rows.Next() {
		l := Lease{Kind: "mailbox"}
		var until int64
		if err := rows.Scan(&l.Name, &l.Owner, &until); err != nil {
			return nil, fmt.Errorf("store: leases: %w", err)
		}
		l.Until = fromMS(until)
		out = append(out, l)
	}
	return out, rows.Err()
}
