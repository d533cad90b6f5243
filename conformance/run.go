package conformance

import (
	"fmt"
	"maps"
	"runtime/debug"
	"slices"
	"strings"
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
// h.Reopen is nil, and the stall cases when h.Stall is nil. h.Skip opts
// named cases out, with the reason printed; Run fails at once on a key of
// h.Skip that names no area or case.
//
// Expiry is checked in real time, with h.ExpiryGranularity (default 10ms) as
// the tolerance both ways: a record must be loadable until one granularity
// before its expiry instant, must be gone one granularity after it, and Load
// and Iterate must report its expiry to within one granularity. A case whose
// calls were too slow to tell retries with longer lifetimes. The package
// documentation lists what each area checks and what the cases need of the
// store New returns.
func Run(t *testing.T, h Harness) {
	t.Helper()
	if h.New == nil {
		t.Fatal("conformance: Harness.New is nil; it must return a fresh store")
	}
	if h.UserKey != "" {
		h.JSONOnly = true
	}
	s := newSuite(h)
	s.root = t.Name()
	if err := s.checkSkips(); err != nil {
		t.Fatal(err)
	}
	for _, a := range s.areas() {
		t.Run(a.name, func(t *testing.T) {
			t.Parallel()
			s.optOut(t)
			if a.skip != "" {
				t.Skip(a.skip)
			}
			for _, c := range a.cases {
				t.Run(c.name, func(t *testing.T) {
					t.Parallel()
					s.optOut(t)
					st := h.New(t)
					if st == nil {
						t.Fatal("conformance: Harness.New returned a nil store")
					}
					s.runCase(t, c, st)
				})
			}
		})
	}
	s.runManager(t)
	s.runConditional(t)
}

// runCase runs one case, turning a panic (in the store or in the suite)
// into a failure of this case alone.
func (s *suite) runCase(t *testing.T, c testCase, st session.Store) {
	t.Helper()
	defer recovered(t)
	c.run(t, st)
}

// recovered, deferred at the top of a case or of a goroutine a case starts,
// fails the case when that goroutine panics, instead of ending the test
// binary. A t.Fatal (runtime.Goexit) is not a panic and passes through.
func recovered(t *testing.T) {
	if v := recover(); v != nil {
		t.Errorf("panicked: %v\n%s", v, debug.Stack())
	}
}

// suite carries the harness and its defaults to every case.
type suite struct {
	h    Harness
	gran time.Duration
	root string // the name of the test that called Run
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
	stallSkip := ""
	if s.h.Stall == nil {
		stallSkip = "Harness.Stall is nil; a cancellation arriving while a call waits on the backend is not checked"
	}
	return []area{
		{name: "basic", cases: s.basicCases()},
		{name: "expiry", cases: s.expiryCases()},
		{name: "payload", cases: s.payloadCases()},
		{name: "ids", cases: s.idCases()},
		{name: "cancel", cases: s.probeCases(s.cancelled)},
		{name: "stall", cases: s.probeCases(s.stalled), skip: stallSkip},
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

// names lists every area and area/case the suite runs, for checking the
// keys of Harness.Skip.
func (s *suite) names() map[string]bool {
	all := map[string]bool{}
	add := func(area string, cases []testCase) {
		all[area] = true
		for _, c := range cases {
			all[area+"/"+c.name] = true
		}
	}
	for _, a := range s.areas() {
		add(a.name, a.cases)
	}
	add("manager", s.managerCases())
	s.conditionalNames(all)
	return all
}

// checkSkips reports keys of Harness.Skip that name nothing the suite runs,
// so that a misspelt opt-out does not silently leave a case running, and
// reasons left empty.
func (s *suite) checkSkips() error {
	known := s.names()
	var bad []string
	for key, why := range s.h.Skip {
		area, rest, _ := strings.Cut(key, "/")
		c, _, _ := strings.Cut(rest, "/")
		name := area
		if c != "" {
			name += "/" + c
		}
		switch {
		case !known[name]:
			bad = append(bad, fmt.Sprintf("Harness.Skip[%q]: no area or case of that name", key))
		case strings.TrimSpace(why) == "":
			bad = append(bad, fmt.Sprintf("Harness.Skip[%q]: give the reason, which the skip prints", key))
		}
	}
	if len(bad) == 0 {
		return nil
	}
	slices.Sort(bad)
	areas := slices.Sorted(maps.Keys(known))
	return fmt.Errorf("conformance: %s\nknown names: %s", strings.Join(bad, "\n"), strings.Join(areas, " "))
}

// optOut skips t when Harness.Skip names it or a group it belongs to.
func (s *suite) optOut(t *testing.T) {
	t.Helper()
	rel := strings.TrimPrefix(t.Name(), s.root+"/")
	for key, why := range s.h.Skip {
		if rel == key || strings.HasPrefix(rel, key+"/") {
			t.Skipf("opted out by Harness.Skip[%q]: %s", key, why)
		}
	}
}

// check runs one named check of a case as a subtest (area/case/name), so
// that Harness.Skip can opt out of it alone.
func (s *suite) check(t *testing.T, name string, fn func(t *testing.T)) {
	t.Helper()
	t.Run(name, func(t *testing.T) {
		s.optOut(t)
		defer recovered(t)
		fn(t)
	})
}
