package boltstore_test

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/sessionkit/sessionkit/conformance"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/stores/boltstore"
)

func TestConformance(t *testing.T) {
	// The Pruner cases want to find expired records themselves.
	opts := boltstore.Options{PruneInterval: -1}
	open := func(t *testing.T, file string) session.Store {
		s, err := boltstore.Open(file, opts)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		t.Cleanup(func() {
			if err := s.Close(); err != nil && !errors.Is(err, session.ErrClosed) {
				t.Errorf("Close: %v", err)
			}
		})
		return s
	}
	conformance.Run(t, conformance.Harness{
		New: func(t *testing.T) session.Store {
			return open(t, filepath.Join(t.TempDir(), "sessions.db"))
		},
		Reopen: func(t *testing.T, s session.Store) session.Store {
			st := s.(*boltstore.Store)
			file := st.Path()
			if err := st.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			return open(t, file)
		},
		Stall: func(t *testing.T, s session.Store) func() { return boltstore.Stall(s.(*boltstore.Store)) },
	})
}
