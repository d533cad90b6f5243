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

	// Skip opts cases out of the suite: each key names an area ("pruner"),
	// a case ("iterator/many") or a check within a case
	// ("iterator/many/no-repeats"), as the subtests are named, and its
	// value says why; the skip prints it. Run fails at once on a key that
	// names nothing the suite runs, or an empty reason. Opt out only of a
	// promise the store documents it does not keep.
	Skip map[string]string

	// Stall, when set, makes every call of st that reaches its backend wait
	// until release is called, as a backend that stopped answering would:
	// a PostgreSQL table locked by another connection, a network proxy that
	// holds the replies, a held bbolt write lock. The stall cases use it to
	// cancel a call while it waits; a call Stall does not hold up is
	// skipped with a note. The suite calls release exactly once, before the
	// case ends, so Stall need not register a cleanup. When nil the stall
	// cases are skipped.
	Stall func(t *testing.T, st session.Store) (release func())
}
