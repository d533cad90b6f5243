package conformance

import (
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/session"
)

// Run checks that the stores h makes keep the session.Store contract and the
// contracts of the optional capabilities they implement, then runs the
// Manager cases. Run it from a test, under -race.
//
// Every case gets a fresh store from h.New and runs as a parallel subtest
// named area/case (basic/round-trip, expiry/touch-extends, ids/percent), so
// h.New must be safe to call from several goroutines at once. Cases for an
// optional capability (session.Counter, session.Pruner, session.Iterator,
// session.UserIndex, session.Pinger, io.Closer) are skipped with a note when
// the store does not implement it; the persist cases are skipped when
// h.Reopen is nil.
//
// Expiry is checked in real time, with h.ExpiryGranularity (default 10ms) as
// the tolerance both ways: a record must be loadable until one granularity
// before its expiry instant, must be gone one granularity after it, and Load
// and Iterate must report its expiry to within one granularity. When a call
// is so slow that a short-lived record could already have expired, the case
// retries with longer lifetimes instead of failing, so a loaded machine makes
// the suite slower, never wrong. Waiting cases overlap up to the -parallel
// limit (default GOMAXPROCS); a store with a one-second granularity takes a
// few seconds per waiting case.
//
// A few cases constrain the store New returns:
//   - The Pruner cases expect Prune to find the records that expired during
//     the case, so the store must not prune them in the background first
//     (disable background pruning, or keep its interval above a minute).
//   - The io.Closer case closes the store itself; the cleanup New registered
//     may close it again, so Close should tolerate a second call.
//   - The UserIndex cases expect UserSessions to report what LinkUser linked:
//     payloads are opaque and carry no user.
//   - After a context is cancelled, every method must return an error that
//     wraps context.Canceled and change nothing. After Close, every method
//     must return an error; session.ErrClosed is recommended but any error
//     passes. A call that panics, or does not return within 10 seconds, fails
//     its case.
//
// When h.JSONOnly is set every payload is a JSON object, such as
// {"cookie":{},"k":"a"}, payloads are compared as JSON values rather than as
// bytes, and the binary payload cases are skipped.
func Run(t *testing.T, h Harness) {
	t.Helper()
	if h.New == nil {
		t.Fatal("conformance: Harness.New is nil; it must return a fresh store")
	}
	if h.UserKey != "" {
		h.JSONOnly = true
	}
	s := newSuite(h)
	for _, a := range s.areas() {
		t.Run(a.name, func(t *testing.T) {
			t.Parallel()
			if a.skip != "" {
				t.Skip(a.skip)
			}
			for _, c := range a.cases {
				t.Run(c.name, func(t *testing.T) {
					t.Parallel()
					st := h.New(t)
					if st == nil {
						t.Fatal("conformance: Harness.New returned a nil store")
					}
					c.run(t, st)
				})
			}
		})
	}
	runManager(t, h)
	runConditional(t, h)
}

// suite carries the harness and its defaults to every case.
type suite struct {
	h    Harness
	gran time.Duration
}

func newSuite(h Harness) *suite {
	gran := h.ExpiryGranularity
	if gran <= 0 {
		gran = 10 * time.Millisecond
	}
	return &suite{h: h, gran: gran}
}

// area is a group of cases about one promise of the contract; skip, when
// set, says why the whole group does not apply.
type area struct {
	name  string
	cases []testCase
	skip  string
}

type testCase struct {
	name string
	run  func(t *testing.T, st session.Store)
}

func (s *suite) areas() []area {
	persistSkip := ""
	if s.h.Reopen == nil {
		persistSkip = "Harness.Reopen is nil; persistence is not checked"
	}
	return []area{
		{name: "basic", cases: s.basicCases()},
		{name: "expiry", cases: s.expiryCases()},
		{name: "payload", cases: s.payloadCases()},
		{name: "ids", cases: s.idCases()},
		{name: "cancel", cases: s.cancelCases()},
		{name: "concurrency", cases: s.concurrencyCases()},
		{name: "counter", cases: s.counterCases()},
		{name: "pruner", cases: s.prunerCases()},
		{name: "iterator", cases: s.iteratorCases()},
		{name: "userindex", cases: s.userIndexCases()},
		{name: "pinger", cases: s.pingerCases()},
		{name: "closer", cases: s.closerCases()},
		{name: "persist", cases: s.persistCases(), skip: persistSkip},
	}
}
