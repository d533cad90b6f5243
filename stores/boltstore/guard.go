package boltstore

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"

	"go.etcd.io/bbolt"
)

// Damage met while the store runs (the file changed after Open checked it)
// makes bbolt panic or fault inside a call. Every call into bbolt runs with
// debug.SetPanicOnFault set on its goroutine, which turns a fault in the
// mapped file into a panic, and under a recover that turns the panic into
// an error wrapping ErrDamaged. SetPanicOnFault is per goroutine: callers'
// goroutines set it around each call and restore it, the committer sets it
// once for its life.

// guard is deferred by a method that calls bbolt; it turns a panic into the
// method's error.
func (s *Store) guard(what string, err *error) {
	if r := recover(); r != nil {
		*err = s.damaged(what, r)
	}
}

// damaged returns the error for a panic r met during what, and logs the
// first one (never a key: see panicText).
func (s *Store) damaged(what string, r any) error {
	text := panicText(r)
	if s.warned.CompareAndSwap(false, true) {
		s.log.Error("bbolt: the file is damaged; check it with sessionctl check, or move it aside",
			"file", s.path, "during", what, "panic", text)
	}
	return fmt.Errorf("bbolt %s: %s: %w (%s)", s.path, what, ErrDamaged, text)
}

// panicText describes a panic without the keys some of bbolt's panic
// messages quote: a runtime error (a fault address, an index) in full,
// another message up to its first colon.
func panicText(r any) string {
	if e, ok := r.(runtime.Error); ok {
		return e.Error()
	}
	text := fmt.Sprint(r)
	if i := strings.IndexByte(text, ':'); i >= 0 {
		text = text[:i]
	}
	return "panic: " + text
}

// view runs fn in a read transaction, guarded.
func (s *Store) view(what string, fn func(*bbolt.Tx) error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer s.guard(what, &err)
	return s.db.View(fn)
}

// update runs fn in a write transaction outside the committer, guarded.
// It does not use bbolt's Update, whose rollback after a panic rereads the
// freelist page: a damaged one would panic again before the write lock is
// released, and every later write (and Close) would wait forever. It stops
// waiting for the file's write lock when ctx ends (bbolt's Begin takes no
// context, and a long commit would otherwise hold a cancelled Prune); a
// transaction begun after that is rolled back at once.
func (s *Store) update(ctx context.Context, what string, fn func(*bbolt.Tx) error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	tx, err := s.beginCtx(ctx)
	if err != nil {
		return err
	}
	defer func() {
		if r := recover(); r != nil {
			s.rollback(tx)
			err = s.damaged(what, r)
		}
	}()
	if err := fn(tx); err != nil {
		s.rollback(tx)
		return err
	}
	return tx.Commit()
}

// begin begins a write transaction, guarded.
func (s *Store) begin() (tx *bbolt.Tx, err error) {
	defer s.guard("begin write", &err)
	return s.db.Begin(true)
}

// beginCtx is begin that gives up when ctx ends first.
func (s *Store) beginCtx(ctx context.Context) (*bbolt.Tx, error) {
	if ctx.Done() == nil {
		return s.begin()
	}
	type begun struct {
		tx  *bbolt.Tx
		err error
	}
	// The goroutine hands its transaction over, or rolls it back itself
	// once the caller has given up; Close waits for it.
	ch, gaveUp := make(chan begun), make(chan struct{})
	s.begins.Add(1)
	go func() {
		defer s.begins.Done()
		defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
		tx, err := s.begin()
		select {
		case ch <- begun{tx, err}:
		case <-gaveUp:
			if tx != nil {
				s.rollback(tx)
			}
		}
	}()
	select {
	case b := <-ch:
		return b.tx, b.err
	case <-ctx.Done():
		close(gaveUp)
		return nil, ctx.Err()
	}
}

// rollback rolls tx back, guarded. tx.Rollback only drops what tx
// allocated and releases the write lock; it rereads nothing from the file,
// so it finishes even after a panic inside tx.Commit's own rollback.
func (s *Store) rollback(tx *bbolt.Tx) {
	defer func() { _ = recover() }()
	_ = tx.Rollback()
}

// try applies ops in tx and commits it, guarded. A panic is reported as
// panicked, with tx rolled back.
func (s *Store) try(tx *bbolt.Tx, ops []*op) (bad int, applyErr, commitErr, panicked error) {
	defer func() {
		if r := recover(); r != nil {
			s.rollback(tx)
			panicked = s.damaged("write", r)
		}
	}()
	bad, applyErr = s.applyAll(tx, ops)
	if applyErr != nil {
		return bad, applyErr, nil, nil
	}
	return 0, nil, tx.Commit(), nil
}
