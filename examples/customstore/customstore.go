// Package customstore is a complete session store in one short file, the
// model for writing your own. It keeps records in a map; a real driver puts
// the same few lines in front of its database.
//
// To write a store:
//
//  1. Implement the four methods of session.Store. Records are opaque bytes
//     under an ID with an absolute expiry instant; the store decides no
//     policy.
//  2. Load returns found == false, with a nil error, for a missing or
//     expired record; err is for system failures only. It also returns the
//     expiry, which the Manager needs to throttle touches.
//  3. Save replaces data and expiry together. Touch moves the expiry of a
//     live record without rewriting its data (an UPDATE of one column, an
//     EXPIRE), and neither creates a missing record nor revives an expired
//     one. Delete of a missing record is not an error.
//  4. Check the context first in every method and return its error, so a
//     cancelled request costs nothing.
//  5. Copy what crosses the boundary: the caller may change the slice Load
//     returns.
//  6. Add optional capabilities only if the backend can do them well: here
//     session.Counter, found by the Manager with a type assertion. Others
//     are session.Pruner, session.Iterator, session.UserIndex,
//     session.Pinger and io.Closer.
//  7. Run conformance.Run from a test, under -race (see customstore_test.go).
//     It checks every promise above, and the capabilities you add, by name:
//     a failure reads like "conformance/expiry/touch-expired".
//  8. If the store documents that it does not keep one promise, opt out of
//     the cases that check it with conformance.Harness.Skip, giving the
//     reason (TestConformanceOptOut shows how).
//
// Stores that keep expiry coarsely, such as in whole seconds, set
// conformance.Harness.ExpiryGranularity. The full contract is in the
// documentation of session.Store and the interfaces beside it.
package customstore

import (
	"bytes"
	"context"
	"sync"
	"time"
)

// Store keeps sessions in a map. It is safe for concurrent use. Expired
// records stay in the map until overwritten or deleted; a real store would
// prune them (session.Pruner) or let its backend expire them.
type Store struct {
	mu      sync.RWMutex
	records map[string]record
}

type record struct {
	data []byte
	exp  time.Time
}

// New returns an empty Store.
func New() *Store { return &Store{records: map[string]record{}} }

// Load returns a copy of the record's data and its expiry.
func (s *Store) Load(ctx context.Context, id string) ([]byte, time.Time, bool, error) {
	if err := ctx.Err(); err != nil {
		return nil, time.Time{}, false, err
	}
	s.mu.RLock()
	r, ok := s.records[id]
	s.mu.RUnlock()
	if !ok || !r.exp.After(time.Now()) {
		return nil, time.Time{}, false, nil
	}
	return bytes.Clone(r.data), r.exp, true, nil
}

// Save stores a copy of data until expiresAt.
func (s *Store) Save(ctx context.Context, id string, data []byte, expiresAt time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.records[id] = record{data: bytes.Clone(data), exp: expiresAt}
	return nil
}

// Touch moves the expiry of a live record.
func (s *Store) Touch(ctx context.Context, id string, expiresAt time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok := s.records[id]; ok && r.exp.After(time.Now()) {
		r.exp = expiresAt
		s.records[id] = r
	}
	return nil
}

// Delete removes the record, if any.
func (s *Store) Delete(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.records, id)
	return nil
}

// Count returns the number of live records; it makes Store a
// session.Counter.
func (s *Store) Count(ctx context.Context) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	var n int64
	now := time.Now()
	for _, r := range s.records {
		if r.exp.After(now) {
			n++
		}
	}
	return n, nil
}
