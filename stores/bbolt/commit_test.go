package bbolt

import (
	"context"
	"errors"
	"testing"
	"time"
)

// queued reports how many ops wait for the committer.
func queued(s *Store) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.queue)
}

// waitDrained waits until the committer has taken every queued op.
func waitDrained(t *testing.T, s *Store) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); queued(s) > 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("committer never took the queued op")
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
	s.commit(ops)
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

// TestCancelQueued holds bbolt's write lock so ops wait in the queue, then
// cancels one: it returns at once with the context's error and is never
// applied, while an op the committer had already claimed stands.
func TestCancelQueued(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Options{})
	exp := time.Now().Add(time.Hour)

	tx, err := s.db.Begin(true) // blocks the committer inside its Begin
	if err != nil {
		t.Fatal(err)
	}
	ctxA, cancelA := context.WithCancel(ctx)
	errA := make(chan error, 1)
	go func() { errA <- s.Save(ctxA, "claimed", []byte("a"), exp) }()
	waitDrained(t, s) // A is claimed and waits for the write lock

	ctxB, cancelB := context.WithCancel(ctx)
	errB := make(chan error, 1)
	go func() { errB <- s.Save(ctxB, "cancelled", []byte("b"), exp) }()
	for queued(s) == 0 {
		time.Sleep(time.Millisecond)
	}
	cancelB()
	if err := <-errB; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled Save = %v; want context.Canceled", err)
	}
	cancelA() // too late: A is already in the transaction
	_ = tx.Rollback()
	if err := <-errA; err != nil {
		t.Fatalf("claimed Save = %v; want nil (its result stands)", err)
	}
	if _, _, found, _ := s.Load(ctx, "claimed"); !found {
		t.Error("claimed op not applied")
	}
	// Let the committer pass over the abandoned op, then look.
	if err := s.Save(ctx, "after", nil, exp); err != nil {
		t.Fatal(err)
	}
	if _, _, found, _ := s.Load(ctx, "cancelled"); found {
		t.Error("cancelled op was applied")
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
	waitDrained(t, s)
	go func() { errs <- s.Save(ctx, "two", []byte("2"), time.Now().Add(time.Hour)) }()
	for queued(s) == 0 {
		time.Sleep(time.Millisecond)
	}
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
}
