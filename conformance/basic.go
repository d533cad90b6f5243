package conformance

import (
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/session"
)

func (s *suite) basicCases() []testCase {
	return []testCase{
		{"round-trip", s.roundTrip},
		{"load-missing", s.loadMissing},
		{"delete", s.deleteRecord},
		{"delete-missing", s.deleteMissing},
		{"overwrite", s.overwrite},
		{"touch-keeps-data", s.touchKeepsData},
		{"touch-missing", s.touchMissing},
		{"isolation", s.isolation},
		{"returned-slice", s.returnedSlice},
	}
}

func (s *suite) roundTrip(t *testing.T, st session.Store) {
	exp := later()
	s.save(t, st, "a", s.data("a"), exp)
	s.wantRecord(t, st, "a", s.data("a"), exp, "after Save")
}

func (s *suite) loadMissing(t *testing.T, st session.Store) {
	s.wantMissing(t, st, "never-saved", "on a fresh store")
}

func (s *suite) deleteRecord(t *testing.T, st session.Store) {
	s.save(t, st, "a", s.data("a"), later())
	s.del(t, st, "a")
	s.wantMissing(t, st, "a", "after Delete")
}

func (s *suite) deleteMissing(t *testing.T, st session.Store) {
	s.del(t, st, "never-saved")
	s.save(t, st, "a", s.data("a"), later())
	s.del(t, st, "a")
	s.del(t, st, "a")
	s.wantMissing(t, st, "a", "after deleting twice")
	s.wantMissing(t, st, "never-saved", "after deleting a missing record")
}

func (s *suite) overwrite(t *testing.T, st session.Store) {
	s.save(t, st, "a", s.data("first"), later())
	exp := later().Add(30 * time.Minute)
	s.save(t, st, "a", s.data("second"), exp)
	s.wantRecord(t, st, "a", s.data("second"), exp, "after a second Save")
}

func (s *suite) touchKeepsData(t *testing.T, st session.Store) {
	s.save(t, st, "a", s.data("a"), later())
	for _, exp := range []time.Time{later().Add(time.Hour), later().Add(-30 * time.Minute)} {
		s.touch(t, st, "a", exp)
		s.wantRecord(t, st, "a", s.data("a"), exp, "after Touch to "+showExp(exp)+" (the contract: Touch moves the expiry without rewriting data)")
	}
}

func (s *suite) touchMissing(t *testing.T, st session.Store) {
	s.touch(t, st, "never-saved", later())
	s.wantMissing(t, st, "never-saved", "after touching a missing record (the contract: Touch never creates a record)")
}

func (s *suite) isolation(t *testing.T, st session.Store) {
	exp := later()
	s.save(t, st, "a", s.data("a"), exp)
	s.save(t, st, "b", s.data("b"), exp)
	s.del(t, st, "a")
	s.wantRecord(t, st, "b", s.data("b"), exp, "after deleting another record")
	s.touch(t, st, "b", exp.Add(time.Hour))
	s.wantMissing(t, st, "a", "after deleting it and touching another record")
}

func (s *suite) returnedSlice(t *testing.T, st session.Store) {
	want := s.data("a")
	s.save(t, st, "a", want, later())
	got, _, found := s.load(t, st, "a")
	if !found {
		t.Fatal("Load(\"a\") found nothing right after Save")
	}
	for i := range got {
		got[i] ^= 0xff
	}
	s.wantRecord(t, st, "a", want, time.Time{}, "after the caller changed the slice a previous Load returned (the contract: the slice Load returns belongs to the caller)")
}
