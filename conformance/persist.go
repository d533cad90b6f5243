package conformance

import (
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/session"
)

func (s *suite) persistCases() []testCase {
	return []testCase{
		{"data", s.persistData},
		{"expiry", s.persistExpiry},
		{"delete", s.persistDelete},
		{"touch", s.persistTouch},
		{"overwrite", s.persistOverwrite},
		{"userindex", s.persistUsers},
	}
}

func (s *suite) reopen(t *testing.T, st session.Store) session.Store {
	t.Helper()
	st = s.h.Reopen(t, st)
	if st == nil {
		t.Fatal("Harness.Reopen returned a nil store")
	}
	return st
}

func (s *suite) persistData(t *testing.T, st session.Store) {
	exp := later()
	big := s.sized("big", 256<<10)
	s.save(t, st, "a", s.data("a"), exp)
	s.save(t, st, "big", big, exp)
	st = s.reopen(t, st)
	s.wantRecord(t, st, "a", s.data("a"), exp, "after Reopen")
	s.wantRecord(t, st, "big", big, exp, "after Reopen")
}

// persistExpiry checks that a reopened store still expires what it was
// told to, and reports the same expiry.
func (s *suite) persistExpiry(t *testing.T, st session.Store) {
	exp := later()
	s.timed(t, func(w window) bool {
		s.save(t, st, "long", s.data("long"), exp)
		s.save(t, st, "short", s.data("short"), w.deadline)
		st = s.reopen(t, st)
		if !s.liveIn(t, st, w, "short", s.data("short"), "after Reopen") {
			return false
		}
		w.wait()
		s.wantMissing(t, st, "short", "after Reopen and its expiry passed")
		return true
	})
	s.wantRecord(t, st, "long", s.data("long"), exp, "after Reopen")
}

func (s *suite) persistDelete(t *testing.T, st session.Store) {
	exp := later()
	s.save(t, st, "a", s.data("a"), exp)
	s.save(t, st, "b", s.data("b"), exp)
	s.del(t, st, "a")
	st = s.reopen(t, st)
	s.wantMissing(t, st, "a", "after Delete and Reopen")
	s.wantRecord(t, st, "b", s.data("b"), exp, "after deleting another record and Reopen")
}

func (s *suite) persistTouch(t *testing.T, st session.Store) {
	s.save(t, st, "a", s.data("a"), later())
	s.save(t, st, "b", s.data("b"), later())
	exp := later().Add(2 * time.Hour)
	s.touch(t, st, "a", s.past())
	s.touch(t, st, "b", exp)
	st = s.reopen(t, st)
	s.wantMissing(t, st, "a", "after Touch to the past and Reopen")
	s.wantRecord(t, st, "b", s.data("b"), exp, "after Touch and Reopen")
}

func (s *suite) persistOverwrite(t *testing.T, st session.Store) {
	exp := later()
	s.save(t, st, "a", s.sized("first", 4096), later())
	s.save(t, st, "a", s.data("second"), exp)
	st = s.reopen(t, st)
	s.wantRecord(t, st, "a", s.data("second"), exp, "after a second Save and Reopen")
}
