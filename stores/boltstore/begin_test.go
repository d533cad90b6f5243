package boltstore

import (
	"context"
	"errors"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"go.etcd.io/bbolt"
)

// TestCloseWaitsForAbandonedBegin cancels a Prune while it waits for the
// file's write lock, on a file the caller owns: once Close has returned, the
// goroutine that was still waiting for the lock has taken it, rolled back
// and ended, so the caller's own writes go on and nothing of the store runs.
func TestCloseWaitsForAbandonedBegin(t *testing.T) {
	db, err := bbolt.Open(filepath.Join(t.TempDir(), "sessions.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s, err := New(db, Options{PruneInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	release := Stall(s)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { _, err := s.Prune(ctx); done <- err }()
	for !inBeginCtx() {
		runtime.Gosched() // until Prune waits for the lock
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Prune cancelled while the write lock was held = %v; want context.Canceled", err)
	}
	release()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if inBeginCtx() {
		t.Fatal("a goroutine of beginCtx outlived Close")
	}
	if err := db.Update(func(*bbolt.Tx) error { return nil }); err != nil {
		t.Fatalf("the caller's write after Close: %v", err)
	}
}

// inBeginCtx reports whether a goroutine runs in beginCtx or one it started.
func inBeginCtx() bool {
	buf := make([]byte, 1<<20)
	return strings.Contains(string(buf[:runtime.Stack(buf, true)]), "boltstore.(*Store).beginCtx")
}
