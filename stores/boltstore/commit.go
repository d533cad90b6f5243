package boltstore

import (
	"context"
	"encoding/binary"
	"errors"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/bbolt"

	"github.com/sessionkit/sessionkit/session"
)

// Group commit: writers queue ops; one committer goroutine takes everything
// queued, applies it in one write transaction and commits it with one fsync.
// Unlike bbolt.DB.Batch there is no timer: a lone writer is committed at once,
// and writers that arrive during a commit form the next batch.

type opKind uint8

const (
	opSave opKind = iota
	opTouch
	opDelete
	opLink
	opUnlink
)

// op states: the committer claims a queued op before applying it; a writer
// whose context ends abandons a queued op so it is never applied.
const (
	opQueued int32 = iota
	opClaimed
	opAbandoned
)

// op is one queued write. buf and n encode its keys (see the callers).
type op struct {
	kind  opKind
	ctx   context.Context
	buf   []byte
	n     int
	state atomic.Int32
	done  chan error
	// outcome is a conditional op's result (conditional.go), answered when
	// its transaction commits.
	outcome error
}

var opPool = sync.Pool{New: func() any { return &op{done: make(chan error, 1)} }}

// submit queues a write and waits for its own result. A context that ends
// before the committer claims the op returns its error and the op is never
// applied; once claimed, the op's result is returned whatever the context.
func (s *Store) submit(ctx context.Context, kind opKind, buf []byte, n int) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	o := opPool.Get().(*op)
	o.kind, o.ctx, o.buf, o.n = kind, ctx, buf, n
	o.state.Store(opQueued)

	s.mu.Lock()
	if s.shut {
		s.mu.Unlock()
		o.ctx, o.buf = nil, nil
		opPool.Put(o)
		return session.ErrClosed
	}
	s.queue = append(s.queue, o)
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}

	var err error
	select {
	case err = <-o.done:
	case <-ctx.Done():
		if o.state.CompareAndSwap(opQueued, opAbandoned) {
			// The committer may still hold o in its batch: never reuse it.
			return ctx.Err()
		}
		err = <-o.done
	}
	o.ctx, o.buf, o.outcome = nil, nil, nil
	opPool.Put(o)
	return err
}

// commitLoop is the committer goroutine; it exits once Close has been called
// and every op queued before that is answered.
func (s *Store) commitLoop() {
	defer close(s.committerDone)
	// This goroutine is the store's own: a fault in the mapped file becomes
	// a panic that commit recovers, for as long as it runs.
	debug.SetPanicOnFault(true)
	var batch, live []*op
	for {
		s.mu.Lock()
		batch, s.queue = s.queue, batch[:0]
		shut := s.shut
		s.mu.Unlock()
		if len(batch) == 0 {
			if shut {
				return
			}
			<-s.wake
			continue
		}
		s.taken.Add(int64(len(batch)))
		// Claim only once the write lock is held, so a writer whose context
		// ends while another transaction holds the file still returns at once.
		tx, err := s.begin()
		live = live[:0]
		for _, o := range batch {
			if !o.state.CompareAndSwap(opQueued, opClaimed) {
				continue // abandoned by its writer
			}
			if err := o.ctx.Err(); err != nil {
				o.done <- err
				continue
			}
			live = append(live, o)
		}
		if s.claimed != nil {
			s.claimed()
		}
		s.commit(tx, err, live)
		s.gather(len(live))
		// Drop references so abandoned ops and their buffers can be freed.
		clear(batch)
		clear(live)
	}
}

// gather yields the processor after answering a batch, so writers that
// write again at once (a client saving in a loop, a handler saving twice)
// join the next batch instead of waiting a whole commit behind it: without
// this, looping writers split into two groups that alternate, and 8 writers
// share each fsync only 4 ways. It yields at most once per op just answered
// and stops once that many more ops are queued; while some op is queued it
// also stops after two yields in a row bring none, so a waiting op is held
// up by a few yields at most. No timer is involved.
func (s *Store) gather(answered int) {
	s.mu.Lock()
	want := len(s.queue) + answered
	s.mu.Unlock()
	last, idle := want-answered, 0
	for range answered {
		runtime.Gosched()
		s.mu.Lock()
		n := len(s.queue)
		s.mu.Unlock()
		if n >= want {
			return
		}
		if n > 0 && n == last {
			if idle++; idle == 2 {
				return
			}
		} else {
			idle = 0
		}
		last = n
	}
}

// commit applies claimed ops in tx (begun with error err; nil tx means
// begin one) and answers each. An op that fails is answered with its error
// and the transaction is redone without it, so it leaves no partial change
// and fails no other op. A failed commit is retried op by op, so each writer
// learns its own outcome.
func (s *Store) commit(tx *bbolt.Tx, err error, ops []*op) {
	for len(ops) > 0 {
		if tx == nil && err == nil {
			tx, err = s.begin()
		}
		if err != nil {
			answer(ops, s.fail("begin write", err))
			return
		}
		bad, err, cerr, perr := s.try(tx, ops)
		if perr != nil {
			// The damage may lie under one op's keys only: redo each alone,
			// so that the others still succeed.
			if len(ops) > 1 {
				for _, o := range ops {
					s.commit(nil, nil, []*op{o})
				}
				return
			}
			answer(ops, perr)
			return
		}
		if err != nil {
			s.rollback(tx)
			tx = nil
			ops[bad].done <- s.fail("write", err)
			ops = append(ops[:bad:bad], ops[bad+1:]...)
			continue
		}
		if cerr != nil {
			if len(ops) > 1 {
				for _, o := range ops {
					s.commit(nil, nil, []*op{o})
				}
				return
			}
			answer(ops, s.fail("commit", cerr))
			return
		}
		s.commits.Add(1)
		s.committed.Add(int64(len(ops)))
		answer(ops, nil)
		return
	}
	if tx != nil {
		s.rollback(tx)
	}
}

func answer(ops []*op, err error) {
	for _, o := range ops {
		if err == nil {
			o.done <- o.outcome
		} else {
			o.done <- err
		}
	}
}

// buckets are one write transaction's handles on the store's buckets.
type buckets struct {
	data, exp, users, userexp *bbolt.Bucket
}

func (s *Store) bucketsOf(tx *bbolt.Tx) (buckets, error) {
	b := buckets{tx.Bucket(s.data), tx.Bucket(s.exp), tx.Bucket(s.users), tx.Bucket(s.userexp)}
	if b.data == nil || b.exp == nil || b.users == nil || b.userexp == nil {
		return b, errors.New("a store bucket is missing")
	}
	return b, nil
}

func (s *Store) applyAll(tx *bbolt.Tx, ops []*op) (int, error) {
	b, err := s.bucketsOf(tx)
	if err != nil {
		return 0, err
	}
	now := uint64(time.Now().UnixNano())
	for i, o := range ops {
		if err := apply(b, o, now); err != nil {
			return i, err
		}
	}
	return 0, nil
}

// indexKey returns exp|key in a new slice.
func indexKey(exp []byte, key []byte) []byte {
	k := make([]byte, 0, 8+len(key))
	return append(append(k, exp[:8]...), key...)
}

// apply performs one op in tx. bbolt keeps the key and value slices passed
// to Put until the commit, so every Put gets memory of its own.
func apply(b buckets, o *op, now uint64) error {
	switch o.kind {
	case opSave: // buf: exp | id | exp | crc | data
		id := o.buf[8 : 8+o.n]
		if old := b.data.Get(id); len(old) >= 8 {
			if err := b.exp.Delete(indexKey(old, id)); err != nil {
				return err
			}
		}
		if err := b.data.Put(id, o.buf[8+o.n:]); err != nil {
			return err
		}
		return b.exp.Put(o.buf[:8+o.n], nil)

	case opTouch: // buf: exp | id
		id := o.buf[8:]
		old := b.data.Get(id)
		if len(old) < header || binary.BigEndian.Uint64(old) <= now {
			return nil
		}
		if err := b.exp.Delete(indexKey(old, id)); err != nil {
			return err
		}
		v := append([]byte(nil), old...)
		copy(v, o.buf[:8])
		if err := b.data.Put(id, v); err != nil {
			return err
		}
		return b.exp.Put(o.buf, nil)

	case opDelete: // buf: id
		old := b.data.Get(o.buf)
		if old == nil {
			return nil
		}
		if len(old) >= 8 {
			if err := b.exp.Delete(indexKey(old, o.buf)); err != nil {
				return err
			}
		}
		return b.data.Delete(o.buf)

	case opLink: // buf: exp | user \x00 id; userexp's value is the id
		link := o.buf[8:]
		if old := b.users.Get(link); len(old) == 8 {
			if err := b.userexp.Delete(indexKey(old, link)); err != nil {
				return err
			}
		}
		if err := b.users.Put(link, o.buf[:8]); err != nil {
			return err
		}
		return b.userexp.Put(o.buf, o.buf[len(o.buf)-o.n:])

	case opInsert, opReplace:
		return applyConditional(b, o, now)

	case opUnlink: // buf: user \x00 id
		old := b.users.Get(o.buf)
		if old == nil {
			return nil
		}
		if len(old) == 8 {
			if err := b.userexp.Delete(indexKey(old, o.buf)); err != nil {
				return err
			}
		}
		return b.users.Delete(o.buf)
	}
	return errors.New("unknown op")
}
