// Package memstore is an in-process session store, for tests and development.
//
// Records live in a map inside the process: they are lost when it exits and
// are not shared between processes, so it does not suit a deployment with
// more than one instance. It is the reference implementation of the
// session.Store contract and of every optional capability, and passes the
// conformance suite.
//
// Its session.ConditionalStore version is a counter from one sequence for
// the whole store, drawn at every write of data; Touch keeps it (see
// conditional.go).
package memstore

import (
	"bytes"
	"context"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/sessionkit/sessionkit/session"
)

// batch bounds how many records Prune deletes, and Iterate copies, per hold
// of the lock, so that other calls are not stalled behind a large map.
const batch = 256

// Store is an in-process session store. It implements session.Store,
// session.Counter, session.Pruner, session.Iterator, session.UserIndex,
// session.Pinger, session.ConditionalStore, session.Checker,
// session.ExpiredCounter and io.Closer, and is safe for concurrent use.
// Expired records are never returned and are removed by Prune, by the
// background pruning goroutine, or when they are overwritten. After Close
// every method returns session.ErrClosed.
type Store struct {
	mu      sync.RWMutex
	records map[string]record
	users   map[string]map[string]struct{} // user → linked IDs
	closed  bool
	seq     uint64 // the last version given to a write

	interval time.Duration
	stop     context.CancelFunc // stops the pruning goroutine
	stopped  chan struct{}      // closed once it has returned
}

// record is one session. data is the store's own copy: Save copies in and
// Load and Iterate copy out, so no caller can change it. expiresAt carries no
// monotonic clock reading, so expiry follows the wall clock as in a store
// that persists it.
type record struct {
	data      []byte
	expiresAt time.Time
	version   uint64 // see conditional.go
}

var _ interface {
	session.Store
	session.Counter
	session.Pruner
	session.Iterator
	session.UserIndex
	session.Pinger
	session.ConditionalStore
	session.Checker
	session.ExpiredCounter
	io.Closer
} = (*Store)(nil)

func (r record) live(now time.Time) bool { return r.expiresAt.After(now) }

// Option configures a Store.
type Option func(*Store)

// WithPruneInterval sets how often a background goroutine removes expired
// records and the user links to them. The default is one minute; zero or a
// negative interval disables background pruning, and then they stay in
// memory (though never returned) until Prune is called. Close stops the
// goroutine.
func WithPruneInterval(d time.Duration) Option {
	return func(s *Store) { s.interval = d }
}

// New returns an empty store. Unless disabled with WithPruneInterval, it
// starts a pruning goroutine that runs until Close.
func New(opts ...Option) *Store {
	s := &Store{
		records:  map[string]record{},
		users:    map[string]map[string]struct{}{},
		interval: time.Minute,
		stopped:  make(chan struct{}),
	}
	for _, o := range opts {
		o(s)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.stop = cancel
	if s.interval > 0 {
		go s.pruneLoop(ctx)
	} else {
		close(s.stopped)
	}
	return s
}

func (s *Store) pruneLoop(ctx context.Context) {
	defer close(s.stopped)
	tick := time.NewTicker(s.interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			_, _ = s.Prune(ctx) // its only errors are Close and ctx, which end the loop
		}
	}
}

// Close discards every record, stops the pruning goroutine and waits for it
// to return. Calling Close again does nothing and returns nil.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.records, s.users = nil, nil
	s.mu.Unlock()
	s.stop()
	<-s.stopped
	return nil
}

// usable reports why a call may not proceed; the caller holds s.mu.
func (s *Store) usable(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.closed {
		return session.ErrClosed
	}
	return nil
}

// Load returns a copy of the record's data and its expiry.
func (s *Store) Load(ctx context.Context, id string) ([]byte, time.Time, bool, error) {
	if err := ctx.Err(); err != nil {
		return nil, time.Time{}, false, err
	}
	r, ok, err := s.load(ctx, id)
	if !ok || err != nil {
		return nil, time.Time{}, false, err
	}
	return bytes.Clone(r.data), r.expiresAt, true, nil
}

// load returns the live record under id, if any. Its data is the store's
// own: the caller copies what it hands out.
func (s *Store) load(ctx context.Context, id string) (record, bool, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.usable(ctx); err != nil {
		return record{}, false, err
	}
	r, ok := s.records[id]
	if !ok || !r.live(time.Now()) {
		return record{}, false, nil
	}
	return r, true, nil
}

// newRecord returns the record Save, Insert and Replace write: a copy of
// data, never nil, so that Load of an empty record returns a non-nil slice
// as for any other.
func newRecord(data []byte, expiresAt time.Time) record {
	r := record{data: bytes.Clone(data), expiresAt: expiresAt.Round(0)}
	if r.data == nil {
		r.data = []byte{}
	}
	return r
}

// Save stores a copy of data. An expiresAt that is not in the future removes
// the record instead.
func (s *Store) Save(ctx context.Context, id string, data []byte, expiresAt time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r := newRecord(data, expiresAt)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.usable(ctx); err != nil {
		return err
	}
	s.put(id, r, time.Now())
	return nil
}

// put stores r under id with a new version, or removes the record when r
// has already expired; the caller holds s.mu for writing.
func (s *Store) put(id string, r record, now time.Time) {
	if !r.live(now) {
		delete(s.records, id)
		return
	}
	s.seq++
	r.version = s.seq
	s.records[id] = r
}

// Touch moves the expiry of a live record. A missing or expired record is
// left alone; an expiresAt that is not in the future removes the record.
func (s *Store) Touch(ctx context.Context, id string, expiresAt time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.usable(ctx); err != nil {
		return err
	}
	now := time.Now()
	r, ok := s.records[id]
	if !ok || !r.live(now) {
		return nil
	}
	r.expiresAt = expiresAt.Round(0)
	if !r.live(now) {
		delete(s.records, id)
		return nil
	}
	s.records[id] = r
	return nil
}

// Delete removes the record, if any.
func (s *Store) Delete(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.usable(ctx); err != nil {
		return err
	}
	delete(s.records, id)
	return nil
}

// Count returns the number of live records.
func (s *Store) Count(ctx context.Context) (int64, error) {
	return s.count(ctx, true)
}

// count returns the number of records that are live, or expired.
func (s *Store) count(ctx context.Context, live bool) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.usable(ctx); err != nil {
		return 0, err
	}
	now := time.Now()
	var n int64
	for _, r := range s.records {
		if r.live(now) == live {
			n++
		}
	}
	return n, nil
}

// Prune removes the records that have expired and the user links to records
// that no longer exist, and returns how many records it removed. It finds
// them under a read lock and deletes them in batches, so Loads proceed
// meanwhile; a record saved again since it was found is kept.
func (s *Store) Prune(ctx context.Context) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	now := time.Now()
	s.mu.RLock()
	if err := s.usable(ctx); err != nil {
		s.mu.RUnlock()
		return 0, err
	}
	var expired []string
	for id, r := range s.records {
		if !r.live(now) {
			expired = append(expired, id)
		}
	}
	s.mu.RUnlock()

	var n int64
	for ids := range slices.Chunk(expired, batch) {
		s.mu.Lock()
		if err := s.usable(ctx); err != nil {
			s.mu.Unlock()
			return n, err
		}
		for _, id := range ids {
			if r, ok := s.records[id]; ok && !r.live(now) {
				delete(s.records, id)
				n++
			}
		}
		s.mu.Unlock()
	}
	return n, s.pruneLinks(ctx, now)
}

// pruneLinks drops links to records that are gone or expired, so that links
// do not outlive their sessions by more than a prune interval.
func (s *Store) pruneLinks(ctx context.Context, now time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.usable(ctx); err != nil {
		return err
	}
	for user, ids := range s.users {
		for id := range ids {
			if r, ok := s.records[id]; !ok || !r.live(now) {
				delete(ids, id)
			}
		}
		if len(ids) == 0 {
			delete(s.users, user)
		}
	}
	return nil
}

// Iterate calls fn for each live record. It lists the IDs once, then copies
// the records in batches under a read lock and calls fn with no lock held,
// so fn may call the store. Records saved during the iteration are not seen;
// records deleted or expired before their batch is copied are skipped.
func (s *Store) Iterate(ctx context.Context, fn func(session.Record) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.RLock()
	if err := s.usable(ctx); err != nil {
		s.mu.RUnlock()
		return err
	}
	ids := make([]string, 0, len(s.records))
	for id := range s.records {
		ids = append(ids, id)
	}
	s.mu.RUnlock()

	recs := make([]session.Record, 0, batch)
	for chunk := range slices.Chunk(ids, batch) {
		recs = recs[:0]
		now := time.Now()
		s.mu.RLock()
		if err := s.usable(ctx); err != nil {
			s.mu.RUnlock()
			return err
		}
		for _, id := range chunk {
			if r, ok := s.records[id]; ok && r.live(now) {
				recs = append(recs, session.Record{ID: id, Data: bytes.Clone(r.data), ExpiresAt: r.expiresAt})
			}
		}
		s.mu.RUnlock()
		for _, r := range recs {
			if err := fn(r); err != nil {
				return err
			}
		}
	}
	return nil
}

// LinkUser links id to user. The link lasts as long as the record, which a
// Touch may extend past expiresAt, so expiresAt is not kept.
func (s *Store) LinkUser(ctx context.Context, user, id string, expiresAt time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.usable(ctx); err != nil {
		return err
	}
	ids := s.users[user]
	if ids == nil {
		ids = map[string]struct{}{}
		s.users[user] = ids
	}
	ids[id] = struct{}{}
	return nil
}

// UnlinkUser removes the link between user and id, if any.
func (s *Store) UnlinkUser(ctx context.Context, user, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.usable(ctx); err != nil {
		return err
	}
	if ids := s.users[user]; ids != nil {
		delete(ids, id)
		if len(ids) == 0 {
			delete(s.users, user)
		}
	}
	return nil
}

// UserSessions returns, sorted, the IDs linked to user whose records are
// live; it returns nil for a user with none.
func (s *Store) UserSessions(ctx context.Context, user string) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.usable(ctx); err != nil {
		return nil, err
	}
	now := time.Now()
	var out []string
	for id := range s.users[user] {
		if r, ok := s.records[id]; ok && r.live(now) {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out, nil
}

// Ping reports whether the store is open.
func (s *Store) Ping(ctx context.Context) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.usable(ctx)
}
