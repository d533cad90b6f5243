package memory

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
