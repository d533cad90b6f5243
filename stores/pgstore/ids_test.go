package pgstore

import (
	"errors"
	"testing"

	"github.com/sessionkit/sessionkit/session"
)

// TestManagerUnstorableIDs opens, on PostgreSQL, sessions whose (validly
// signed) IDs hold NUL or invalid UTF-8, which PostgreSQL refuses with an
// error: each is a new session, not a store failure.
func TestManagerUnstorableIDs(t *testing.T) {
	e := newEnv(t)
	s := e.store(t, Options{})
	m := newManager(t, s)
	ctx := t.Context()
	for _, id := range []string{"a\x00b", "\xff\xfe", "ok\xc3"} {
		ss := m.Open(ctx, id)
		if _, err := session.Get[string](ss, "user_id"); !errors.Is(err, session.ErrNotFound) {
			t.Errorf("%q: Get = %v; want not found", id, err)
		}
		if isNew, err := ss.IsNew(); err != nil || !isNew {
			t.Errorf("%q: IsNew = %v, %v; want a new session", id, isNew, err)
		}
		if err := ss.Put("n", 1); err != nil {
			t.Fatal(err)
		}
		res, err := m.Commit(ctx, ss)
		if err != nil || res.ID == id {
			t.Errorf("%q: Commit = %+v, %v; want a fresh ID", id, res, err)
		}
	}
}
