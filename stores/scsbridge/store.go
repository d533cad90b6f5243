package scsbridge

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/alexedwards/scs/v2"

	"github.com/sessionkit/sessionkit/session"
)

// Store is a session.Store seen as an scs store. It implements scs.Store,
// scs.CtxStore, scs.IterableStore and scs.IterableCtxStore, and is safe for
// concurrent use as the underlying store is. The methods without a context
// use context.Background().
type Store struct {
	st   session.Store
	iter session.Iterator // nil when st cannot iterate
}

var (
	_ scs.CtxStore         = (*Store)(nil)
	_ scs.IterableStore    = (*Store)(nil)
	_ scs.IterableCtxStore = (*Store)(nil)
)

// New returns st as an scs store. Whether st implements session.Iterator is
// decided here, once.
func New(st session.Store) *Store {
	s := &Store{st: st}
	s.iter, _ = st.(session.Iterator)
	return s
}

// Find returns the data saved under token, as FindCtx.
func (s *Store) Find(token string) ([]byte, bool, error) {
	return s.FindCtx(context.Background(), token)
}

// FindCtx loads the record saved under token. A missing or expired record is
// found == false with a nil error, as both contracts say.
func (s *Store) FindCtx(ctx context.Context, token string) ([]byte, bool, error) {
	b, _, found, err := s.st.Load(ctx, token)
	return b, found, err
}

// Commit saves b under token until expiry, as CommitCtx.
func (s *Store) Commit(token string, b []byte, expiry time.Time) error {
	return s.CommitCtx(context.Background(), token, b, expiry)
}

// CommitCtx saves b under token until expiry, replacing any earlier record.
func (s *Store) CommitCtx(ctx context.Context, token string, b []byte, expiry time.Time) error {
	return s.st.Save(ctx, token, b, expiry)
}

// Delete removes the record saved under token, as DeleteCtx.
func (s *Store) Delete(token string) error {
	return s.DeleteCtx(context.Background(), token)
}

// DeleteCtx removes the record saved under token; a missing one is not an
// error.
func (s *Store) DeleteCtx(ctx context.Context, token string) error {
	return s.st.Delete(ctx, token)
}

// All returns every live record, as AllCtx.
func (s *Store) All() (map[string][]byte, error) {
	return s.AllCtx(context.Background())
}

// AllCtx returns every live record by token, reading them through the
// store's session.Iterator; the map is empty, not nil, when there are none.
// Without an Iterator it returns an error wrapping session.ErrUnsupported,
// which scs's SessionManager.Iterate passes on instead of panicking.
func (s *Store) AllCtx(ctx context.Context) (map[string][]byte, error) {
	if s.iter == nil {
		return nil, fmt.Errorf("scsbridge: %w: %T does not implement session.Iterator, which scs's Iterate needs", session.ErrUnsupported, s.st)
	}
	all := map[string][]byte{}
	err := s.iter.Iterate(ctx, func(r session.Record) error {
		all[r.ID] = bytes.Clone(r.Data) // r.Data is valid only during the call
		return nil
	})
	if err != nil {
		return nil, err
	}
	return all, nil
}
