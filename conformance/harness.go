// Package conformance is the test suite every session.Store must pass.
//
// A store author calls Run from a test with a Harness that opens a fresh,
// isolated store per subtest:
//
//	func TestConformance(t *testing.T) {
//		conformance.Run(t, conformance.Harness{
//			New: func(t *testing.T) session.Store { return mystore.New(...) },
//		})
//	}
//
// Subtests are named by area and case (conformance/expiry/touch-extends) so
// a failure says which promise of the contract was broken. Run the suite
// under -race.
package conformance

import (
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/session"
)

// Harness tells the suite how to open the store under test.
type Harness struct {
	// New returns a fresh, empty store that no other subtest shares. It
	// registers its own cleanup with t.Cleanup (closing the store, dropping
	// the table, key prefix or file it made). Required.
	New func(t *testing.T) session.Store

	// Reopen closes s and returns a store opened on the same data, as after
	// a process restart. When nil, the persistence cases are skipped.
	Reopen func(t *testing.T, s session.Store) session.Store

	// JSONOnly says the store holds only JSON documents (a PostgreSQL json
	// column). The suite then writes JSON payloads and runs the Manager
	// cases with the JSON codec; binary payload cases are skipped.
	JSONOnly bool

	// ExpiryGranularity is how coarsely the store keeps expiry instants; a
	// store that rounds expiry up to whole seconds sets time.Second. The
	// expiry cases wait this long beyond each deadline. The default is
	// 10 milliseconds.
	ExpiryGranularity time.Duration

	// UserKey is set for a store that finds a session's user in the stored
	// JSON document itself, under this top-level key, rather than from
	// LinkUser (a PostgreSQL store can query its json column). The
	// per-user cases then write the user into the payloads they link, and
	// remove it before they unlink, as the Manager's saves do. It implies
	// JSONOnly.
	UserKey string
}
