package memstore

import (
	"testing"
	"time"
)

// TestPruneLoopStopsOnClose checks that the background goroutine prunes
// while the store is open and has returned once Close returns.
func TestPruneLoopStopsOnClose(t *testing.T) {
	s := New(WithPruneInterval(time.Millisecond))
	ctx := t.Context()
	if err := s.Save(ctx, "a", []byte("x"), time.Now().Add(5*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	giveUp := time.After(10 * time.Second) // a hang guard, not a timing check
	for gone := false; !gone; {
		select {
		case <-giveUp:
			t.Fatal("the expired record was not pruned in the background within 10s")
		case <-time.After(time.Millisecond):
		}
		s.mu.RLock()
		_, found := s.records["a"]
		s.mu.RUnlock()
		gone = !found
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	select {
	case <-s.stopped:
	default:
		t.Fatal("the pruning goroutine was still running after Close returned")
	}
}

func TestNoPruneLoopWhenDisabled(t *testing.T) {
	for _, d := range []time.Duration{0, -time.Second} {
		s := New(WithPruneInterval(d))
		select {
		case <-s.stopped:
		default:
			t.Errorf("WithPruneInterval(%v) started a pruning goroutine", d)
		}
		s.Close()
	}
}

// TestPruneDropsStaleLinks checks that links do not outlive their sessions
// beyond a Prune.
func TestPruneDropsStaleLinks(t *testing.T) {
	s := New(WithPruneInterval(0))
	defer s.Close()
	ctx := t.Context()
	exp := time.Now().Add(time.Hour)
	for _, id := range []string{"a", "b"} {
		if err := s.Save(ctx, id, []byte(id), exp); err != nil {
			t.Fatal(err)
		}
		if err := s.LinkUser(ctx, "u", id, exp); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Delete(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Prune(ctx); err != nil {
		t.Fatal(err)
	}
	if got := s.users["u"]; len(got) != 1 {
		t.Fatalf("links of user u after deleting one of two sessions and pruning: %v; want only b", got)
	}
	if err := s.Delete(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Prune(ctx); err != nil {
		t.Fatal(err)
	}
	if len(s.users) != 0 {
		t.Fatalf("users after deleting every session and pruning: %v; want none", s.users)
	}
}
