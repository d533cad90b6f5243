package boltstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"time"

	"go.etcd.io/bbolt"

	"github.com/sessionkit/sessionkit/session"
)

// Check examines the file for an operator: bbolt's consistency check over
// every page, that the expiry index covers every record, the live and
// expired records, the range of their expiries, and records that fail their
// checksum. It reads the whole file in one read transaction, which holds
// back the reuse of freed pages while it runs. Open checked the file's
// structure before mapping it (see CheckFile), so bbolt's check meets no
// page it could fault on; its messages leave keys (session IDs) out. Check
// implements session.Checker.
func (s *Store) Check(ctx context.Context, report func(session.Finding)) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	say := func(sev session.Severity, format string, args ...any) {
		report(session.Finding{Severity: sev, Message: fmt.Sprintf(format, args...)})
	}
	say(session.SeverityOK, "opened %s (not locked by another process)", s.path)
	if fi, err := os.Stat(s.path); err == nil {
		say(session.SeverityInfo, "file size %d bytes", fi.Size())
	}
	var (
		records, indexed, expired int64
		oldest, newest            time.Time
		problems                  []string
	)
	err := s.view("check", func(tx *bbolt.Tx) error {
		data, exp := tx.Bucket(s.data), tx.Bucket(s.exp)
		if data == nil || exp == nil {
			return fmt.Errorf("buckets %q and %q are missing", s.data, s.exp)
		}
		records, indexed = int64(data.Stats().KeyN), int64(exp.Stats().KeyN)
		now := uint64(time.Now().UnixNano())
		c := exp.Cursor()
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			if len(k) < 8 {
				problems = append(problems, "an expiry index key is shorter than 8 bytes")
				continue
			}
			if binary.BigEndian.Uint64(k) > now {
				break
			}
			expired++
		}
		if k, _ := c.First(); len(k) >= 8 {
			oldest = time.Unix(0, int64(binary.BigEndian.Uint64(k)))
		}
		if k, _ := c.Last(); len(k) >= 8 {
			newest = time.Unix(0, int64(binary.BigEndian.Uint64(k)))
		}
		for err := range tx.Check(bbolt.WithKVStringer(redacted{})) {
			if len(problems) < 10 {
				problems = append(problems, err.Error())
			}
		}
		return nil
	})
	if err != nil {
		return s.fail("check", err)
	}
	for _, p := range problems {
		say(session.SeverityError, "file damaged: %s", p)
	}
	if len(problems) == 0 {
		say(session.SeverityOK, "every page of the file is consistent")
	}
	if records != indexed {
		say(session.SeverityError, "the expiry index has %d entries for %d records", indexed, records)
	} else {
		say(session.SeverityOK, "buckets %q with an expiry index covering all %d records", string(bytes.TrimSuffix(s.data, []byte("/data")))+"/*", records)
	}
	live := indexed - expired
	say(session.SeverityInfo, "%d live sessions, %d expired awaiting pruning", live, expired)
	if !oldest.IsZero() {
		say(session.SeverityInfo, "expiries from %s to %s", stamp(oldest), stamp(newest))
	}
	var readable int64
	err = s.Iterate(ctx, func(session.Record) error { readable++; return nil })
	switch {
	case err != nil:
		say(session.SeverityError, "cannot read the sessions: %v", err)
	case readable < live:
		// A few may have expired between the two reads; more than that is
		// damage.
		say(session.SeverityWarning, "%d of %d live records are unreadable (checksum mismatch) and count as missing", live-readable, live)
	}
	return nil
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// CountExpired counts the records that expired and await pruning, reading
// the expired prefix of the expiry index in transactions of bounded size.
// It implements session.ExpiredCounter.
func (s *Store) CountExpired(ctx context.Context) (int64, error) {
	return s.countIndex(ctx, "count expired", 0, uint64(time.Now().UnixNano()))
}
