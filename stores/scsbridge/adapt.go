package scsbridge

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"hash/maphash"
	"time"

	"github.com/alexedwards/scs/v2"

	"github.com/sessionkit/sessionkit/session"
)

// magic starts every payload Adapt writes; the version byte lets a later
// header layout coexist with this one.
var magic = [4]byte{'s', 'k', 'x', 1}

// headerLen is the magic number and the expiry in Unix microseconds.
const headerLen = len(magic) + 8

// pack returns data behind a header holding exp, in a new slice: scs stores
// may keep the slice they are given.
func pack(data []byte, exp time.Time) []byte {
	b := make([]byte, headerLen+len(data))
	copy(b, magic[:])
	binary.BigEndian.PutUint64(b[len(magic):], uint64(exp.UnixMicro()))
	copy(b[headerLen:], data)
	return b
}

// unpack splits a stored payload into its data, which aliases b, and its
// expiry; ok is false when b was not written by pack.
func unpack(b []byte) (data []byte, exp time.Time, ok bool) {
	if len(b) < headerLen || !bytes.Equal(b[:len(magic)], magic[:]) {
		return nil, time.Time{}, false
	}
	us := int64(binary.BigEndian.Uint64(b[len(magic):]))
	return b[headerLen:], time.UnixMicro(us), true
}

// stripes is how many locks serialize the writes of one adapted store, by
// ID; enough that unrelated sessions rarely wait on each other.
const stripes = 64

// adapted is an scs store seen as a session.Store.
type adapted struct {
	s    scs.Store
	ctxs scs.CtxStore // s when it takes contexts, else nil
	// locks serialize Save, Touch and Delete per ID stripe, so that a
	// Touch's read-modify-write cannot undo a concurrent Delete or Save.
	// They are channels so that waiting for one honours the context.
	locks [stripes]chan struct{}
	seed  maphash.Seed
}

// iterable is an adapted store whose scs store can list its records.
type iterable struct {
	*adapted
	all func(ctx context.Context) (map[string][]byte, error)
}

// Adapt returns s as a session.Store. The result implements
// session.Iterator when s implements scs.IterableCtxStore or
// scs.IterableStore, and no other optional capability; see the package
// documentation for how expiry is kept and what Touch costs. s is called
// with contexts when it implements scs.CtxStore.
func Adapt(s scs.Store) session.Store {
	a := &adapted{s: s, seed: maphash.MakeSeed()}
	a.ctxs, _ = s.(scs.CtxStore)
	for i := range a.locks {
		a.locks[i] = make(chan struct{}, 1)
	}
	switch is := s.(type) {
	case scs.IterableCtxStore:
		return iterable{a, is.AllCtx}
	case scs.IterableStore:
		return iterable{a, func(context.Context) (map[string][]byte, error) { return is.All() }}
	}
	return a
}

func (a *adapted) lock(ctx context.Context, id string) (unlock func(), err error) {
	if err := ctx.Err(); err != nil {
		return nil, err // before select, which picks at random among ready cases
	}
	l := a.locks[maphash.String(a.seed, id)%stripes]
	select {
	case l <- struct{}{}:
		return func() { <-l }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (a *adapted) find(ctx context.Context, id string) ([]byte, bool, error) {
	if err := ctx.Err(); err != nil {
		return nil, false, err
	}
	var b []byte
	var found bool
	var err error
	if a.ctxs != nil {
		b, found, err = a.ctxs.FindCtx(ctx, id)
	} else {
		b, found, err = a.s.Find(id)
	}
	if err != nil {
		return nil, false, fmt.Errorf("scsbridge: %T.Find: %w", a.s, err)
	}
	return b, found, nil
}

func (a *adapted) commit(ctx context.Context, id string, data []byte, exp time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	var err error
	if a.ctxs != nil {
		err = a.ctxs.CommitCtx(ctx, id, pack(data, exp), exp)
	} else {
		err = a.s.Commit(id, pack(data, exp), exp)
	}
	if err != nil {
		return fmt.Errorf("scsbridge: %T.Commit: %w", a.s, err)
	}
	return nil
}

func (a *adapted) delete(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	var err error
	if a.ctxs != nil {
		err = a.ctxs.DeleteCtx(ctx, id)
	} else {
		err = a.s.Delete(id)
	}
	if err != nil {
		return fmt.Errorf("scsbridge: %T.Delete: %w", a.s, err)
	}
	return nil
}

// Load returns a copy of the record's data, since scs stores may return a
// slice they keep, and the expiry from its header. A record without a
// header, or past its expiry, is not found.
func (a *adapted) Load(ctx context.Context, id string) ([]byte, time.Time, bool, error) {
	b, found, err := a.find(ctx, id)
	if err != nil || !found {
		return nil, time.Time{}, false, err
	}
	data, exp, ok := unpack(b)
	if !ok || !exp.After(time.Now()) {
		return nil, time.Time{}, false, nil
	}
	return bytes.Clone(data), exp, true, nil
}

// Save commits data behind a header holding expiresAt; an expiry that is
// not in the future deletes the record instead.
func (a *adapted) Save(ctx context.Context, id string, data []byte, expiresAt time.Time) error {
	unlock, err := a.lock(ctx, id)
	if err != nil {
		return err
	}
	defer unlock()
	if !expiresAt.After(time.Now()) {
		return a.delete(ctx, id)
	}
	return a.commit(ctx, id, data, expiresAt)
}

// Touch rewrites a live record with a new expiry: scs stores cannot move
// an expiry alone. A missing, expired or headerless record is left alone.
func (a *adapted) Touch(ctx context.Context, id string, expiresAt time.Time) error {
	unlock, err := a.lock(ctx, id)
	if err != nil {
		return err
	}
	defer unlock()
	b, found, err := a.find(ctx, id)
	if err != nil || !found {
		return err
	}
	data, exp, ok := unpack(b)
	now := time.Now()
	if !ok || !exp.After(now) {
		return nil
	}
	if !expiresAt.After(now) {
		return a.delete(ctx, id)
	}
	return a.commit(ctx, id, data, expiresAt)
}

// Delete removes the record; a missing one is not an error.
func (a *adapted) Delete(ctx context.Context, id string) error {
	unlock, err := a.lock(ctx, id)
	if err != nil {
		return err
	}
	defer unlock()
	return a.delete(ctx, id)
}

// Iterate calls fn for each live record that Adapt wrote, from one call to
// the scs store's All.
func (it iterable) Iterate(ctx context.Context, fn func(session.Record) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	all, err := it.all(ctx)
	if err != nil {
		return fmt.Errorf("scsbridge: %T.All: %w", it.s, err)
	}
	now := time.Now()
	for id, b := range all {
		if err := ctx.Err(); err != nil {
			return err
		}
		data, exp, ok := unpack(b)
		if !ok || !exp.After(now) {
			continue
		}
		// A copy: fn may change Data, and the scs store may share it.
		if err := fn(session.Record{ID: id, Data: bytes.Clone(data), ExpiresAt: exp}); err != nil {
			return err
		}
	}
	return nil
}
