package memstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/sessionkit/sessionkit/session"
)

// The session.ConditionalStore capability. A record's version is a counter
// drawn from one sequence for the whole store at every Save, Insert and
// Replace, so no two writes ever give the same version, even to a record
// deleted and written again. Touch moves only the expiry and keeps the
// version: a request that loaded before a touch still saves without a
// retry.

// LoadVersion is Load that also returns the record's version.
func (s *Store) LoadVersion(ctx context.Context, id string) ([]byte, time.Time, []byte, bool, error) {
	if err := ctx.Err(); err != nil {
		return nil, time.Time{}, nil, false, err
	}
	r, ok, err := s.load(ctx, id)
	if !ok || err != nil {
		return nil, time.Time{}, nil, false, err
	}
	return bytes.Clone(r.data), r.expiresAt, binary.BigEndian.AppendUint64(nil, r.version), true, nil
}

// Insert stores a copy of data under id unless a live record has that id.
func (s *Store) Insert(ctx context.Context, id string, data []byte, expiresAt time.Time) (bool, error) {
	return s.write(ctx, id, data, expiresAt, nil)
}

// Replace stores a copy of data over the live record under id while its
// version is still version.
func (s *Store) Replace(ctx context.Context, id string, data []byte, expiresAt time.Time, version []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(version) != 8 {
		return fmt.Errorf("memstore: replace: %w: a version of %d bytes was never issued by this store", session.ErrConflict, len(version))
	}
	_, err := s.write(ctx, id, data, expiresAt, version)
	return err
}

// write inserts (version nil) or replaces under the lock.
func (s *Store) write(ctx context.Context, id string, data []byte, expiresAt time.Time, version []byte) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	r := newRecord(data, expiresAt)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.usable(ctx); err != nil {
		return false, err
	}
	now := time.Now()
	old, exists := s.records[id]
	exists = exists && old.live(now)
	switch {
	case version == nil && exists:
		return false, nil
	case version != nil && !exists:
		return false, fmt.Errorf("memstore: replace: %w", session.ErrNotFound)
	case version != nil && old.version != binary.BigEndian.Uint64(version):
		return false, fmt.Errorf("memstore: replace: %w", session.ErrConflict)
	}
	s.put(id, r, now)
	return true, nil
}
