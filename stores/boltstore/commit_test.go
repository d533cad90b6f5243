package boltstore

import (
	"context"
	"errors"
	"testing"
	"time"
)

// waitSubmitted waits until n ops have reached the queue, whether or not
// the committer has taken them since.
func waitSubmitted(t *testing.T, s *Store, n int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		s.mu.Lock()
		got := len(s.queue) + int(s.taken.Load())
		s.mu.Unlock()
		if got >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d ops submitted; want %d", got, n)
		}
	}
}

// TestFailingOpIsolated commits a batch in which one op fails: the others
// are committed and the failing one leaves nothing behind.
func TestFailingOpIsolated(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Options{})
	exp := time.Now().Add(time.Hour)
	mk := func(kind opKind, buf []byte, n int) *op {
		o := &op{kind: kind, ctx: ctx, buf: buf, n: n, done: make(chan error, 1)}
		o.state.Store(opClaimed)
		return o
	}
	saveBuf := func(id string) []byte {
		d := []byte("data-" + id)
		b := make([]byte, 8+len(id)+header+len(d))
		putRecord(b, id, d, exp)
		return b
	}
	ops := []*op{
		mk(opSave, saveBuf("a"), 1),
		mk(opKind(99), []byte("bad"), 3),
		mk(opSave, saveBuf("b"), 1),
	}
	s.commit(nil, nil, ops)
	for i, want := range []bool{true, false, true} {
		if err := <-ops[i].done; (err == nil) != want {
			t.Errorf("op %d: err = %v; want success %v", i, err, want)
		}
	}
	for _, id := range []string{"a", "b"} {
		if d, _, found, _ := s.Load(ctx, id); !found || string(d) != "data-"+id {
			t.Errorf("Load(%s) = %q, %v", id, d, found)
		}
	}
	checkIndex(t, s)
}

// TestCancelQueued holds bbolt's write lock so ops wait for the committer,
// then cancels them: each returns at once with the context's error and is
// never applied.
func TestCancelQueued(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Options{})
	exp := time.Now().Add(time.Hour)

	tx, err := s.db.Begin(true) // the committer waits for this lock
	if err != nil {
		t.Fatal(err)
	}
	ctxA, cancelA := context.WithCancel(ctx)
	errA := make(chan error, 1)
	go func() { errA <- s.Save(ctxA, "a", []byte("a"), exp) }()
	waitSubmitted(t, s, 1) // the committer takes A and waits for the lock

	ctxB, cancelB := context.WithCancel(ctx)
	errB := make(chan error, 1)
	go func() { errB <- s.Save(ctxB, "b", []byte("b"), exp) }()
	waitSubmitted(t, s, 2)
	cancelA()
	cancelB()
	for name, ch := range map[string]chan error{"a": errA, "b": errB} {
		if err := <-ch; !errors.Is(err, context.Canceled) {
			t.Errorf("Save %s, then cancelled = %v; want context.Canceled", name, err)
		}
	}
	_ = tx.Rollback()
	// Let the committer pass over the abandoned ops, then look.
	if err := s.Save(ctx, "after", nil, exp); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"a", "b"} {
		if _, _, found, _ := s.Load(ctx, id); found {
			t.Errorf("cancelled op %q was applied", id)
		}
	}

	done, cancel := context.WithCancel(ctx)
	cancel()
	if err := s.Save(done, "early", nil, exp); !errors.Is(err, context.Canceled) {
		t.Errorf("Save with a done context = %v", err)
	}
	if _, _, found, _ := s.Load(ctx, "early"); found {
		t.Error("op with a done context was applied")
	}
}

// TestCancelClaimed cancels an op after the committer claimed it for a
// transaction: the op's result stands and the writer gets it.
func TestCancelClaimed(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Options{})
	cctx, cancel := context.WithCancel(ctx)
	s.claimed = cancel // runs on the committer, before the commit
	if err := s.Save(cctx, "claimed", []byte("a"), time.Now().Add(time.Hour)); err != nil {
		t.Fatalf("Save cancelled after its claim = %v; want nil (its result stands)", err)
	}
	if cctx.Err() == nil {
		t.Fatal("the hook did not run")
	}
	if _, _, found, _ := s.Load(ctx, "claimed"); !found {
		t.Error("claimed op not applied")
	}
}

// TestCloseCommitsQueued checks that writes queued before Close are
// committed, not dropped, and that Close waits for them.
func TestCloseCommitsQueued(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Options{})
	tx, err := s.db.Begin(true)
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 2)
	go func() { errs <- s.Save(ctx, "one", []byte("1"), time.Now().Add(time.Hour)) }()
	go func() { errs <- s.Save(ctx, "two", []byte("2"), time.Now().Add(time.Hour)) }()
	waitSubmitted(t, s, 2)
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	for !s.closed.Load() {
		time.Sleep(time.Millisecond)
	}
	_ = tx.Rollback()
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Errorf("Save queued before Close = %v", err)
		}
	}
	for _, id := range []string{"one", "two"} {
		if err := checkAll(s.path, []string{id}); err != nil {
			t.Error(err)
		}
	}
}
