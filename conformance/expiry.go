package conformance

import (
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/session"
)

func (s *suite) expiryCases() []testCase {
	return []testCase{
		{"save-past", s.savePast},
		{"save-long-past", s.saveLongPast},
		{"honoured", s.expiryHonoured},
		{"touch-extends", s.touchExtends},
		{"touch-shortens", s.touchShortens},
		{"touch-past", s.touchPast},
		{"touch-expired", s.touchExpired},
		{"overwrite-longer", s.overwriteLonger},
		{"overwrite-shorter", s.overwriteShorter},
		{"overwrite-past", s.overwritePast},
		{"far-future", s.farFuture},
		{"minutes", s.expiryMinutes},
	}
}

func (s *suite) savePast(t *testing.T, st session.Store) {
	s.save(t, st, "a", s.data("a"), s.past())
	s.wantMissing(t, st, "a", "after Save with an expiry one granularity in the past (the contract: a record whose expiry is not in the future is never loaded)")
}

func (s *suite) saveLongPast(t *testing.T, st session.Store) {
	s.save(t, st, "a", s.data("a"), time.Now().Add(-24*time.Hour))
	s.wantMissing(t, st, "a", "after Save with an expiry a day in the past (the contract: a record whose expiry is not in the future is never loaded)")
}

func (s *suite) expiryHonoured(t *testing.T, st session.Store) {
	s.timed(t, func(w window) bool {
		s.save(t, st, "a", s.data("a"), w.deadline)
		if !s.liveIn(t, st, w, "a", s.data("a"), "after Save") {
			return false
		}
		w.wait()
		s.wantMissing(t, st, "a", "after its expiry passed by more than one granularity (the contract: a record whose expiry is not in the future is never loaded)")
		return true
	})
}

func (s *suite) touchExtends(t *testing.T, st session.Store) {
	s.timed(t, func(w window) bool {
		s.save(t, st, "a", s.data("a"), w.deadline)
		exp := later()
		s.touch(t, st, "a", exp)
		if !w.open() {
			return false
		}
		w.wait()
		s.wantRecord(t, st, "a", s.data("a"), exp, "after Touch moved its expiry an hour ahead and the old expiry passed")
		return true
	})
}

func (s *suite) touchShortens(t *testing.T, st session.Store) {
	s.timed(t, func(w window) bool {
		s.save(t, st, "a", s.data("a"), later())
		s.touch(t, st, "a", w.deadline)
		if !s.liveIn(t, st, w, "a", s.data("a"), "after Touch brought its expiry closer") {
			return false
		}
		w.wait()
		s.wantMissing(t, st, "a", "after the expiry set by Touch passed")
		return true
	})
}

func (s *suite) touchPast(t *testing.T, st session.Store) {
	s.save(t, st, "a", s.data("a"), later())
	s.touch(t, st, "a", s.past())
	s.wantMissing(t, st, "a", "after Touch to an instant in the past (the contract: Touch may shorten an expiry, and a record whose expiry is not in the future is never loaded)")
}

// touchExpired checks that Touch does not bring an expired record back: an
// UPDATE that ignores the old expiry would.
func (s *suite) touchExpired(t *testing.T, st session.Store) {
	s.save(t, st, "a", s.data("a"), s.past())
	s.touch(t, st, "a", later())
	s.wantMissing(t, st, "a", "after Save with a past expiry then Touch to the future (the contract: Touch never brings an expired record back)")
}

func (s *suite) overwriteLonger(t *testing.T, st session.Store) {
	s.timed(t, func(w window) bool {
		s.save(t, st, "a", s.data("first"), w.deadline)
		exp := later()
		s.save(t, st, "a", s.data("second"), exp)
		if !w.open() {
			return false
		}
		w.wait()
		s.wantRecord(t, st, "a", s.data("second"), exp, "after a second Save with a later expiry and the first expiry passed")
		return true
	})
}

func (s *suite) overwriteShorter(t *testing.T, st session.Store) {
	s.timed(t, func(w window) bool {
		s.save(t, st, "a", s.data("first"), later())
		s.save(t, st, "a", s.data("second"), w.deadline)
		if !s.liveIn(t, st, w, "a", s.data("second"), "after a second Save with a sooner expiry") {
			return false
		}
		w.wait()
		s.wantMissing(t, st, "a", "after the expiry of the second Save passed")
		return true
	})
}

func (s *suite) overwritePast(t *testing.T, st session.Store) {
	s.save(t, st, "a", s.data("first"), later())
	s.save(t, st, "a", s.data("second"), s.past())
	s.wantMissing(t, st, "a", "after a second Save with a past expiry")
}

func (s *suite) farFuture(t *testing.T, st session.Store) {
	exp := time.Now().AddDate(100, 0, 0)
	s.save(t, st, "a", s.data("a"), exp)
	s.wantRecord(t, st, "a", s.data("a"), exp, "after Save with an expiry a hundred years ahead")
}

// expiryMinutes checks records that expire in the next minutes: each is
// live to Load, Count and Iterate, and Prune keeps it. A store that converts
// expiry to a coarse TTL, compares it in another time zone, or prunes with a
// margin gets these wrong while records an hour out pass.
func (s *suite) expiryMinutes(t *testing.T, st session.Store) {
	now := time.Now()
	recs := map[string]time.Time{}
	for _, d := range []time.Duration{30 * time.Second, time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute} {
		id := "in-" + d.String()
		recs[id] = now.Add(d)
		s.save(t, st, id, s.data(id), recs[id])
	}
	if p, ok := st.(session.Pruner); ok {
		if n := s.prune(t, p); n != 0 {
			t.Errorf("Prune with only records expiring in 30 seconds to 10 minutes = %d; want 0 (the contract: Prune removes only records whose expiry has passed)", n)
		}
	}
	for id, exp := range recs {
		s.wantRecord(t, st, id, s.data(id), exp, "a record expiring "+showExp(exp)+" (after Prune, if the store has it)")
	}
	if c, ok := st.(session.Counter); ok {
		s.wantCount(t, c, int64(len(recs)), "with records expiring in 30 seconds to 10 minutes")
	}
	if it, ok := st.(session.Iterator); ok {
		s.wantIDs(t, s.collect(t, it), slices.Collect(maps.Keys(recs))...)
	}
}
