package boltstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"math"
	"math/rand/v2"
	"time"

	"go.etcd.io/bbolt"

	"github.com/sessionkit/sessionkit/session"
)

// iterBatch is how many records one read transaction of Iterate or Count
// visits, so a long walk never pins one snapshot (and bbolt's remap) for long.
const (
	iterBatch  = 256
	countBatch = 10000
)

// pruneLoop prunes on a jittered interval until ctx is cancelled by Close.
func (s *Store) pruneLoop(ctx context.Context, interval time.Duration) {
	defer close(s.pruneDone)
	for {
		wait := time.Duration(float64(interval) * (0.75 + 0.5*rand.Float64()))
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		n, err := s.prune(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			s.log.Error("bbolt: prune failed", "file", s.path, "removed", n, "err", err)
		case n > 0:
			s.log.Debug("bbolt: pruned expired sessions", "file", s.path, "removed", n)
		}
	}
}

// Prune deletes expired records and expired user links in transactions of
// at most Options.PruneBatch deletions each, and returns how many records it
// removed. It stops between transactions when ctx is done.
func (s *Store) Prune(ctx context.Context) (int64, error) {
	if err := s.check(ctx); err != nil {
		return 0, err
	}
	return s.prune(ctx)
}

func (s *Store) prune(ctx context.Context) (int64, error) {
	var total int64
	for {
		if err := s.check(ctx); err != nil {
			return total, err
		}
		var n int64
		var more bool
		err := s.update(ctx, "prune", func(tx *bbolt.Tx) error {
			b, err := s.bucketsOf(tx)
			if err != nil {
				return err
			}
			now := uint64(time.Now().UnixNano())
			n, more, err = s.pruneBatch(b, now)
			return err
		})
		if err != nil {
			return total, s.fail("prune", err)
		}
		total += n
		if !more {
			return total, nil
		}
	}
}

// expired returns copies of up to limit keys of index whose expiry prefix is
// at or before now, oldest first, and whether more may follow.
func expired(index *bbolt.Bucket, now uint64, limit int) ([][]byte, [][]byte, bool) {
	var keys, vals [][]byte
	c := index.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if len(k) >= 8 && binary.BigEndian.Uint64(k) > now {
			return keys, vals, false
		}
		if len(keys) == limit {
			return keys, vals, true
		}
		keys = append(keys, bytes.Clone(k))
		vals = append(vals, bytes.Clone(v))
	}
	return keys, vals, false
}

func (s *Store) pruneBatch(b buckets, now uint64) (removed int64, more bool, err error) {
	keys, _, moreData := expired(b.exp, now, s.batch)
	for _, k := range keys {
		if len(k) > 8 {
			id := k[8:]
			// The index moves with the record, so a record whose expiry
			// differs from this entry's belongs to another entry.
			if v := b.data.Get(id); len(v) >= 8 && bytes.Equal(v[:8], k[:8]) {
				if err := b.data.Delete(id); err != nil {
					return removed, false, err
				}
				removed++
			}
		}
		if err := b.exp.Delete(k); err != nil {
			return removed, false, err
		}
	}

	// A link whose own expiry passed lives on while its session does: the
	// Manager links at save time but only touches the session afterwards.
	links, ids, moreLinks := expired(b.userexp, now, s.batch)
	for i, k := range links {
		if err := b.userexp.Delete(k); err != nil {
			return removed, false, err
		}
		if len(k) < 8 {
			continue
		}
		link := k[8:]
		if cur := b.users.Get(link); !bytes.Equal(cur, k[:8]) {
			continue // the link was re-made with another expiry
		}
		if v := b.data.Get(ids[i]); len(v) >= 8 && binary.BigEndian.Uint64(v) > now {
			if err := b.users.Put(link, bytes.Clone(v[:8])); err != nil {
				return removed, false, err
			}
			if err := b.userexp.Put(indexKey(v, link), ids[i]); err != nil {
				return removed, false, err
			}
			continue
		}
		if err := b.users.Delete(link); err != nil {
			return removed, false, err
		}
	}
	return removed, moreData || moreLinks, nil
}

// Count returns the number of live records, reading the expiry index from
// now on in transactions of bounded size.
func (s *Store) Count(ctx context.Context) (int64, error) {
	return s.countIndex(ctx, "count", uint64(time.Now().UnixNano())+1, math.MaxUint64)
}

// countIndex counts the entries of the expiry index whose instant (Unix
// nanoseconds) lies from lo to hi, both included, reading at most countBatch
// of them per read transaction. Count and CountExpired share it, so both
// read through the guard that turns a damaged file into an error.
func (s *Store) countIndex(ctx context.Context, what string, lo, hi uint64) (int64, error) {
	var total int64
	from := binary.BigEndian.AppendUint64(nil, lo)
	for from != nil {
		if err := s.check(ctx); err != nil {
			return 0, err
		}
		err := s.view(what, func(tx *bbolt.Tx) error {
			b := tx.Bucket(s.exp)
			if b == nil {
				return errMissing(s.exp)
			}
			c := b.Cursor()
			n := 0
			for k, _ := c.Seek(from); k != nil; k, _ = c.Next() {
				if len(k) < 8 {
					continue // not an index entry; Check reports damage
				}
				if binary.BigEndian.Uint64(k) > hi {
					break
				}
				if n == countBatch {
					from = bytes.Clone(k)
					return nil
				}
				n++
				total++
			}
			from = nil
			return nil
		})
		if err != nil {
			return 0, s.fail(what, err)
		}
	}
	return total, nil
}

// Iterate calls fn with each live record. Records are read in batches, each
// in its own read transaction, and fn runs outside any transaction, so it may
// write to the store. Record.Data is a copy that fn may keep.
func (s *Store) Iterate(ctx context.Context, fn func(session.Record) error) error {
	var after []byte
	recs := make([]session.Record, 0, iterBatch)
	for {
		if err := s.check(ctx); err != nil {
			return err
		}
		recs = recs[:0]
		done := false
		err := s.view("iterate", func(tx *bbolt.Tx) error {
			b := tx.Bucket(s.data)
			if b == nil {
				return errMissing(s.data)
			}
			now := uint64(time.Now().UnixNano())
			c := b.Cursor()
			k, v := c.First()
			if after != nil {
				k, v = c.Seek(after)
				if bytes.Equal(k, after) {
					k, v = c.Next()
				}
			}
			for ; k != nil; k, v = c.Next() {
				if len(recs) == iterBatch {
					return nil
				}
				after = bytes.Clone(k)
				exp, data, ok := decode(v)
				if !ok || exp <= now {
					continue
				}
				recs = append(recs, session.Record{
					ID:        string(k),
					Data:      bytes.Clone(data),
					ExpiresAt: time.Unix(0, int64(exp)),
				})
			}
			done = true
			return nil
		})
		if err != nil {
			return s.fail("iterate", err)
		}
		for _, r := range recs {
			if err := fn(r); err != nil {
				return err
			}
		}
		if done {
			return nil
		}
	}
}
