package session

import (
	"errors"
	"testing"
)

// TestUnstorableIDNotFound opens sessions whose IDs no store can be relied
// on to hold (PostgreSQL refuses NUL and invalid UTF-8 with an error): each
// is a new session, with no store call and no error, and gets a fresh ID.
func TestUnstorableIDNotFound(t *testing.T) {
	for _, id := range []string{"a\x00b", "\x00", "\xff\xfe", "ok\xc3", "abc\xed\xa0\x80"} {
		f := newFixture(t, nil)
		f.st.fail = errors.New("the store was called")
		s := f.m.Open(t.Context(), id)
		isNew, err := s.IsNew()
		if err != nil || !isNew {
			t.Errorf("%q: IsNew = %v, %v; want a new session and no error", id, isNew, err)
		}
		if n := f.st.total(); n != 0 {
			t.Errorf("%q: %d store calls; want none", id, n)
		}
		f.st.fail = nil
		must(t, s.Put("k", "v"))
		res, err := f.m.Commit(t.Context(), s)
		if err != nil || res.ID == id || res.ID == "" {
			t.Errorf("%q: commit gave ID %q, %v; want a fresh one", id, res.ID, err)
		}
	}
}
