package conformance_test

import (
	"path/filepath"
	"testing"

	"github.com/sessionkit/sessionkit/conformance"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/stores/boltstore"
)

// A store's test file runs the whole suite with one call. New gives each
// case a fresh store and cleans it up; Reopen, when set, adds the cases that
// check what survives a restart. This is boltstore's own harness in short,
// with background pruning off because the Pruner cases prune themselves; in
// a real test file the literal's body is func TestConformance(t *testing.T).
// The example only compiles: the suite needs a *testing.T to run.
func ExampleRun() {
	testConformance := func(t *testing.T) {
		open := func(t *testing.T, path string) session.Store {
			s, err := boltstore.Open(path, boltstore.Options{PruneInterval: -1})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		}
		conformance.Run(t, conformance.Harness{
			New: func(t *testing.T) session.Store {
				return open(t, filepath.Join(t.TempDir(), "sessions.db"))
			},
			Reopen: func(t *testing.T, s session.Store) session.Store {
				bs := s.(*boltstore.Store)
				bs.Close()
				return open(t, bs.Path())
			},
		})
	}
	_ = testConformance
}
