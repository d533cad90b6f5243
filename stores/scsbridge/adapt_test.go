package scsbridge_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/alexedwards/scs/v2/memstore"

	"github.com/sessionkit/sessionkit/conformance"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/stores/scsbridge"
)

func newMemstore(t *testing.T) *memstore.MemStore {
	t.Helper()
	// No cleanup goroutine: Load checks every expiry itself.
	return memstore.NewWithCleanupInterval(0)
}

// TestBothWays runs our memory store through New and back through Adapt:
// the two directions compose into a conforming store.
func TestBothWays(t *testing.T) {
	conformance.Run(t, conformance.Harness{
		New: func(t *testing.T) session.Store { return scsbridge.Adapt(scsbridge.New(newMemory(t))) },
	})
}

func TestCapabilities(t *testing.T) {
	if _, ok := scsbridge.Adapt(newMemstore(t)).(session.Iterator); !ok {
		t.Error("Adapt(memstore) does not implement session.Iterator; memstore has All")
	}
	if _, ok := scsbridge.Adapt(findOnly{newMemstore(t)}).(session.Iterator); ok {
		t.Error("Adapt of a store without All implements session.Iterator")
	}
	st := scsbridge.Adapt(newMemstore(t))
	if _, ok := st.(session.Counter); ok {
		t.Error("Adapt(memstore) claims session.Counter")
	}
}

// findOnly is an scs.Store with no iteration.
type findOnly struct{ scs.Store }

// TestForeignRecord checks that a record scs wrote itself, without Adapt's
// expiry header, is unreadable rather than misread.
func TestForeignRecord(t *testing.T) {
	ms := newMemstore(t)
	exp := time.Now().Add(time.Hour)
	if err := ms.Commit("scs", []byte("gob bytes from scs"), exp); err != nil {
		t.Fatal(err)
	}
	st := scsbridge.Adapt(ms)
	ctx := t.Context()
	if _, _, found, err := st.Load(ctx, "scs"); found || err != nil {
		t.Fatalf("Load of a headerless record: found %v, %v; want not found", found, err)
	}
	if err := st.Touch(ctx, "scs", exp.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if b, _, _ := ms.Find("scs"); string(b) != "gob bytes from scs" {
		t.Fatalf("Touch changed a headerless record to %q", b)
	}
	var n int
	st.(session.Iterator).Iterate(ctx, func(session.Record) error { n++; return nil })
	if n != 0 {
		t.Errorf("Iterate yielded %d headerless records; want 0", n)
	}
	if err := st.Delete(ctx, "scs"); err != nil {
		t.Fatal(err)
	}
	if _, found, _ := ms.Find("scs"); found {
		t.Fatal("Delete left a headerless record")
	}
}

// TestHeader checks what Adapt hands the scs store: the data behind a
// header, and the expiry itself, so the store's own expiry still works.
func TestHeader(t *testing.T) {
	rec := &recorder{MemStore: newMemstore(t)}
	st := scsbridge.Adapt(rec)
	exp := time.Now().Add(time.Hour)
	if err := st.Save(t.Context(), "a", []byte("data"), exp); err != nil {
		t.Fatal(err)
	}
	if !rec.exp.Equal(exp) || len(rec.b) != 12+4 || string(rec.b[12:]) != "data" {
		t.Fatalf("Commit got %q expiring %v; want a 12-byte header, then \"data\", expiring %v", rec.b, rec.exp, exp)
	}
	// An scs store may keep the slice it was given; the caller's slice must
	// not be it.
	data, gotExp, _, _ := st.Load(t.Context(), "a")
	data[0] = 'X'
	if string(rec.b[12:]) != "data" {
		t.Fatal("changing the slice Load returned changed the scs store's record")
	}
	if !gotExp.Equal(exp.Truncate(time.Microsecond)) {
		t.Errorf("Load reports expiry %v; want %v to the microsecond", gotExp, exp)
	}
}

// recorder remembers the last Commit.
type recorder struct {
	*memstore.MemStore
	b   []byte
	exp time.Time
}

func (r *recorder) Commit(token string, b []byte, exp time.Time) error {
	r.b, r.exp = b, exp
	return r.MemStore.Commit(token, b, exp)
}

// TestTouchDeleteRace checks that a Delete arriving while a Touch is
// between its Find and its Commit is not undone by the Commit: a logout
// must not come back.
func TestTouchDeleteRace(t *testing.T) {
	gs := &gated{MemStore: newMemstore(t), entered: make(chan struct{}), release: make(chan struct{})}
	st := scsbridge.Adapt(gs)
	ctx := t.Context()
	if err := st.Save(ctx, "a", []byte("data"), time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	gs.armed.Store(true)
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := st.Touch(ctx, "a", time.Now().Add(2*time.Hour)); err != nil {
			t.Error(err)
		}
	})
	<-gs.entered // the Touch has read the record
	deleted := make(chan struct{})
	wg.Go(func() {
		defer close(deleted)
		if err := st.Delete(ctx, "a"); err != nil {
			t.Error(err)
		}
	})
	// Give an unserialized Delete time to slip in before the Touch writes;
	// a serialized one waits, and either way the record must end deleted.
	select {
	case <-deleted:
	case <-time.After(50 * time.Millisecond):
	}
	close(gs.release)
	wg.Wait()
	if _, _, found, _ := st.Load(ctx, "a"); found {
		t.Fatal("a Touch in flight brought back a record deleted meanwhile")
	}
}

// gated blocks the first Find after it is armed until released.
type gated struct {
	*memstore.MemStore
	armed            atomic.Bool
	entered, release chan struct{}
	once             sync.Once
}

func (g *gated) Find(token string) ([]byte, bool, error) {
	b, found, err := g.MemStore.Find(token)
	if g.armed.Load() {
		g.once.Do(func() {
			close(g.entered)
			<-g.release
		})
	}
	return b, found, err
}

// TestCancelledWait checks that a call waiting for another call on the
// same ID gives up when its context ends.
func TestCancelledWait(t *testing.T) {
	gs := &gated{MemStore: newMemstore(t), entered: make(chan struct{}), release: make(chan struct{})}
	st := scsbridge.Adapt(gs)
	if err := st.Save(t.Context(), "a", []byte("data"), time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	gs.armed.Store(true)
	done := make(chan struct{})
	go func() {
		defer close(done)
		st.Touch(context.Background(), "a", time.Now().Add(2*time.Hour))
	}()
	<-gs.entered
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Millisecond)
	defer cancel()
	err := st.Save(ctx, "a", []byte("new"), time.Now().Add(time.Hour))
	close(gs.release)
	<-done
	if err == nil {
		t.Fatal("Save waiting behind a Touch returned nil after its context ended; want the context's error")
	}
}
