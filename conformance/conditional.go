package conformance

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/session"
)

// runConditional runs the session.ConditionalStore cases (conditional/…)
// and the Manager's write-model cases (manager-races/…): an ended session
// stays ended, concurrent requests merge their changes per key, and
// session.Update loses no increment. A store without the capability has both
// groups skipped with the reason: the Manager then saves with a plain Save,
// the last writer wins and an in-flight request can write an ended session
// back, as with any store that cannot compare before it writes.
func (s *suite) runConditional(t *testing.T) {
	for _, g := range s.conditionalGroups() {
		t.Run(g.name, func(t *testing.T) {
			t.Parallel()
			s.optOut(t)
			for _, c := range g.cases {
				t.Run(c.name, func(t *testing.T) {
					t.Parallel()
					s.optOut(t)
					st := s.h.New(t)
					if st == nil {
						t.Fatal("conformance: Harness.New returned a nil store")
					}
					cs, ok := st.(session.ConditionalStore)
					if !ok {
						t.Skipf("%T does not implement session.ConditionalStore: the Manager saves it with plain Saves (last writer wins, an in-flight request can re-create an ended session), so the write model is not checked", st)
					}
					defer recovered(t)
					c.run(t, cs)
				})
			}
		})
	}
}

type condCase struct {
	name string
	run  func(t *testing.T, st session.ConditionalStore)
}

type condGroup struct {
	name  string
	cases []condCase
}

func (s *suite) conditionalGroups() []condGroup {
	return []condGroup{
		{"conditional", s.conditionalCases()},
		{"manager-races", s.raceCases()},
	}
}

// conditionalNames adds the groups' area/case names to all, for
// Harness.Skip.
func (s *suite) conditionalNames(all map[string]bool) {
	for _, g := range s.conditionalGroups() {
		all[g.name] = true
		for _, c := range g.cases {
			all[g.name+"/"+c.name] = true
		}
	}
}

func (s *suite) conditionalCases() []condCase {
	return []condCase{
		{"load-version", s.cLoadVersion},
		{"replace-current", s.cReplaceCurrent},
		{"stale-after-save", s.cStaleAfterSave},
		{"stale-after-replace", s.cStaleAfterReplace},
		{"stale-after-touch", s.cStaleAfterTouch},
		{"replace-after-delete", s.cReplaceAfterDelete},
		{"replace-after-expiry", s.cReplaceAfterExpiry},
		{"replace-missing", s.cReplaceMissing},
		{"insert-missing", s.cInsertMissing},
		{"insert-existing", s.cInsertExisting},
		{"insert-over-expired", s.cInsertOverExpired},
		{"concurrent-replace", s.cConcurrentReplace},
		{"concurrent-insert", s.cConcurrentInsert},
	}
}

// loadV loads id with LoadVersion, failing the case on an error.
func (s *suite) loadV(t *testing.T, st session.ConditionalStore, id string) ([]byte, time.Time, []byte, bool) {
	t.Helper()
	data, exp, ver, found, err := st.LoadVersion(t.Context(), id)
	if err != nil {
		t.Fatalf("LoadVersion(%s): %v", showID(id), err)
	}
	return data, exp, ver, found
}

// version loads id, which must be live, and returns its token.
func (s *suite) version(t *testing.T, st session.ConditionalStore, id string) []byte {
	t.Helper()
	_, _, ver, found := s.loadV(t, st, id)
	if !found {
		t.Fatalf("LoadVersion(%s) found nothing; want the record just written", showID(id))
	}
	return ver
}

func (s *suite) cLoadVersion(t *testing.T, st session.ConditionalStore) {
	exp := later()
	s.save(t, st, "a", s.data("a"), exp)
	data, gotExp, ver, found := s.loadV(t, st, "a")
	switch {
	case !found:
		t.Fatal("LoadVersion found nothing after Save")
	case !s.same(data, s.data("a")):
		t.Fatalf("LoadVersion = %s; want %s, as Load returns", show(data), show(s.data("a")))
	case !s.near(gotExp, exp):
		t.Fatalf("LoadVersion reports expiry %s; want %s", showExp(gotExp), showExp(exp))
	case len(ver) == 0:
		t.Fatal("LoadVersion returned an empty version for a live record")
	}
	if _, _, _, found := s.loadV(t, st, "missing"); found {
		t.Fatal("LoadVersion found a record never written")
	}
}

func (s *suite) cReplaceCurrent(t *testing.T, st session.ConditionalStore) {
	s.save(t, st, "a", s.data("1"), later())
	ver := s.version(t, st, "a")
	exp := later().Add(time.Minute)
	if err := st.Replace(t.Context(), "a", s.data("2"), exp, ver); err != nil {
		t.Fatalf("Replace with the current version: %v; want it written", err)
	}
	s.wantRecord(t, st, "a", s.data("2"), exp, "after Replace with the current version")
	// The token moved on: a second Replace with it is a conflict.
	ver2 := s.version(t, st, "a")
	if err := st.Replace(t.Context(), "a", s.data("3"), exp, ver2); err != nil {
		t.Fatalf("Replace with the version read after a Replace: %v", err)
	}
	s.wantRecord(t, st, "a", s.data("3"), exp, "after a second Replace")
}

// wantConflict checks that a Replace with a stale token fails with
// ErrConflict and leaves the record as want.
func (s *suite) wantConflict(t *testing.T, st session.ConditionalStore, ver []byte, want []byte, when string) {
	t.Helper()
	err := st.Replace(t.Context(), "a", s.data("stale"), later(), ver)
	if !errors.Is(err, session.ErrConflict) {
		t.Fatalf("Replace with a version read before %s = %v; want an error wrapping session.ErrConflict", when, err)
	}
	s.wantRecord(t, st, "a", want, time.Time{}, "after a Replace refused as stale ("+when+")")
	var stale *session.StaleError
	if errors.As(err, &stale) {
		// The Manager takes it as its reload: it must be the record as is.
		data, exp, ver, _ := s.loadV(t, st, "a")
		if !s.same(stale.Data, data) || !s.near(stale.ExpiresAt, exp) || !bytes.Equal(stale.Version, ver) {
			t.Fatalf("Replace's StaleError carries %s expiring %s, version %q; LoadVersion gives %s expiring %s, version %q",
				show(stale.Data), showExp(stale.ExpiresAt), stale.Version, show(data), showExp(exp), ver)
		}
	}
}

func (s *suite) cStaleAfterSave(t *testing.T, st session.ConditionalStore) {
	s.save(t, st, "a", s.data("1"), later())
	ver := s.version(t, st, "a")
	s.save(t, st, "a", s.data("2"), later())
	s.wantConflict(t, st, ver, s.data("2"), "a Save")
}

func (s *suite) cStaleAfterReplace(t *testing.T, st session.ConditionalStore) {
	s.save(t, st, "a", s.data("1"), later())
	ver := s.version(t, st, "a")
	if err := st.Replace(t.Context(), "a", s.data("2"), later(), ver); err != nil {
		t.Fatalf("Replace with the current version: %v", err)
	}
	s.wantConflict(t, st, ver, s.data("2"), "another Replace")
}

// cStaleAfterTouch checks the store's own account of a touch: a token the
// touch left unchanged still replaces, one it changed is a conflict. Either
// is allowed (the Manager reloads and retries on a conflict); a store must
// not change the token yet accept the old one, nor the reverse.
func (s *suite) cStaleAfterTouch(t *testing.T, st session.ConditionalStore) {
	s.save(t, st, "a", s.data("1"), later())
	ver := s.version(t, st, "a")
	s.touch(t, st, "a", later().Add(time.Minute))
	after := s.version(t, st, "a")
	if !bytes.Equal(ver, after) {
		t.Logf("Touch changes this store's version: a request that loaded before a touch retries")
		s.wantConflict(t, st, ver, s.data("1"), "a Touch that changed the version")
		return
	}
	t.Logf("Touch leaves this store's version alone")
	exp := later().Add(2 * time.Minute)
	if err := st.Replace(t.Context(), "a", s.data("2"), exp, ver); err != nil {
		t.Fatalf("Replace with a version that a Touch left unchanged = %v; want it written", err)
	}
	s.wantRecord(t, st, "a", s.data("2"), exp, "after Replace over a touched record")
}

// wantNotFound checks that Replace on a record that is gone fails with
// ErrNotFound and creates nothing.
func (s *suite) wantNotFound(t *testing.T, st session.ConditionalStore, id string, ver []byte, when string) {
	t.Helper()
	err := st.Replace(t.Context(), id, s.data("late"), later(), ver)
	if !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("Replace %s = %v; want an error wrapping session.ErrNotFound", when, err)
	}
	s.wantMissing(t, st, id, "after Replace "+when)
}

func (s *suite) cReplaceAfterDelete(t *testing.T, st session.ConditionalStore) {
	s.save(t, st, "a", s.data("1"), later())
	ver := s.version(t, st, "a")
	s.del(t, st, "a")
	s.wantNotFound(t, st, "a", ver, "after Delete (a revoked or destroyed session)")
}

func (s *suite) cReplaceAfterExpiry(t *testing.T, st session.ConditionalStore) {
	s.timed(t, func(w window) bool {
		s.save(t, st, "a", s.data("1"), w.deadline)
		_, _, ver, found := s.loadV(t, st, "a")
		if !w.open() {
			return false
		}
		if !found {
			t.Fatal("LoadVersion found nothing before the record's expiry")
		}
		w.wait()
		s.wantNotFound(t, st, "a", ver, "after the record expired")
		return true
	})
}

func (s *suite) cReplaceMissing(t *testing.T, st session.ConditionalStore) {
	s.save(t, st, "other", s.data("o"), later())
	ver := s.version(t, st, "other")
	s.wantNotFound(t, st, "never", ver, "of an ID never written (with another record's version)")
}

func (s *suite) cInsertMissing(t *testing.T, st session.ConditionalStore) {
	exp := later()
	ok, err := st.Insert(t.Context(), "a", s.data("1"), exp)
	if err != nil || !ok {
		t.Fatalf("Insert of a new ID = %v, %v; want true, nil", ok, err)
	}
	s.wantRecord(t, st, "a", s.data("1"), exp, "after Insert")
}

func (s *suite) cInsertExisting(t *testing.T, st session.ConditionalStore) {
	exp := later()
	s.save(t, st, "a", s.data("1"), exp)
	ok, err := st.Insert(t.Context(), "a", s.data("2"), later().Add(time.Minute))
	if err != nil || ok {
		t.Fatalf("Insert over a live record = %v, %v; want false, nil", ok, err)
	}
	s.wantRecord(t, st, "a", s.data("1"), exp, "after a refused Insert")
}

func (s *suite) cInsertOverExpired(t *testing.T, st session.ConditionalStore) {
	s.timed(t, func(w window) bool {
		s.save(t, st, "a", s.data("1"), w.deadline)
		w.wait()
		exp := later()
		ok, err := st.Insert(t.Context(), "a", s.data("2"), exp)
		if err != nil || !ok {
			t.Fatalf("Insert over an expired record = %v, %v; want true, nil", ok, err)
		}
		s.wantRecord(t, st, "a", s.data("2"), exp, "after Insert over an expired record")
		return true
	})
}

// cConcurrentReplace has many writers replace with one token at once: one
// wins, every other gets ErrConflict, and the record is the winner's.
func (s *suite) cConcurrentReplace(t *testing.T, st session.ConditionalStore) {
	const writers = 16
	s.save(t, st, "a", s.data("base"), later())
	ver := s.version(t, st, "a")
	ps := s.payloads("w", writers, 256)
	var wins atomic.Int64
	winner := make(chan []byte, writers)
	var wg sync.WaitGroup
	for _, p := range ps {
		wg.Go(func() {
			err := st.Replace(t.Context(), "a", p, later(), ver)
			switch {
			case err == nil:
				wins.Add(1)
				winner <- p
			case !errors.Is(err, session.ErrConflict):
				t.Errorf("Replace racing %d others with one version = %v; want nil or ErrConflict", writers-1, err)
			}
		})
	}
	wg.Wait()
	if n := wins.Load(); n != 1 {
		t.Fatalf("%d of %d Replaces with one version succeeded; want exactly 1", n, writers)
	}
	s.wantRecord(t, st, "a", <-winner, time.Time{}, "after racing Replaces")
}

func (s *suite) cConcurrentInsert(t *testing.T, st session.ConditionalStore) {
	const writers = 16
	ps := s.payloads("w", writers, 256)
	var wins atomic.Int64
	winner := make(chan []byte, writers)
	var wg sync.WaitGroup
	for _, p := range ps {
		wg.Go(func() {
			ok, err := st.Insert(t.Context(), "a", p, later())
			if err != nil {
				t.Errorf("Insert racing %d others: %v", writers-1, err)
			}
			if ok {
				wins.Add(1)
				winner <- p
			}
		})
	}
	wg.Wait()
	if n := wins.Load(); n != 1 {
		t.Fatalf("%d of %d Inserts of one ID succeeded; want exactly 1", n, writers)
	}
	s.wantRecord(t, st, "a", <-winner, time.Time{}, "after racing Inserts")
}

func (s *suite) raceCases() []condCase {
	return []condCase{
		{"revoke-vs-writer", s.rRevoke},
		{"destroy-vs-writer", s.rDestroy},
		{"renew-vs-writer", s.rRenew},
		{"revoke-vs-renew", s.rRevokeRenew},
		{"renew-merges", s.rRenewMerges},
		{"distinct-keys", s.rDistinctKeys},
		{"update-increments", s.rIncrements},
		{"same-key-later-wins", s.rSameKey},
		{"unmodified-one-load", s.rUnmodified},
	}
}

// inFlight opens the session id and loads it, as a request that has read its
// session and is still working.
func inFlight(t *testing.T, m *session.Manager, id string) *session.Session {
	t.Helper()
	sess := m.Open(t.Context(), id)
	if isNew, err := sess.IsNew(); err != nil || isNew {
		t.Fatalf("loading the in-flight request's session: IsNew %v, %v; want a live session", isNew, err)
	}
	return sess
}

// wantDropped commits sess, whose session another request ended, and checks
// that the commit wrote nothing: an error wrapping session.ErrEnded and the
// cookie left alone.
func wantDropped(t *testing.T, m *session.Manager, sess *session.Session, what string) {
	t.Helper()
	res, err := m.Commit(t.Context(), sess)
	if !errors.Is(err, session.ErrEnded) {
		t.Fatalf("committing a request that wrote after %s: %v; want an error wrapping session.ErrEnded", what, err)
	}
	if res.Cookie != session.CookieKeep {
		t.Fatalf("committing a request that wrote after %s gave cookie action %v; want CookieKeep", what, res.Cookie)
	}
}

func (s *suite) rRevoke(t *testing.T, st session.ConditionalStore) {
	if _, ok := st.(session.UserIndex); !ok {
		t.Skip("the store does not implement session.UserIndex")
	}
	m := s.manager(t, st, session.Config{})
	id := login(t, m, "mallory")
	a := inFlight(t, m, id)
	if n, err := m.RevokeUser(t.Context(), "mallory"); err != nil || n != 1 {
		t.Fatalf("RevokeUser(mallory) = %d, %v; want 1", n, err)
	}
	if err := a.Put("last_seen", "now"); err != nil {
		t.Fatal(err)
	}
	wantDropped(t, m, a, "RevokeUser")
	s.wantMissing(t, st, id, "after an in-flight request committed over a revoked session")
	if infos, err := m.UserSessions(t.Context(), "mallory"); err != nil || len(infos) != 0 {
		t.Fatalf("UserSessions(mallory) after the revoke race = %d sessions, %v; want none", len(infos), err)
	}
}

func (s *suite) rDestroy(t *testing.T, st session.ConditionalStore) {
	m := s.manager(t, st, session.Config{})
	id := login(t, m, "ana")
	a := inFlight(t, m, id)
	request(t, m, id, func(sess *session.Session) error { return sess.Destroy() })
	if err := session.AddFlash(a, "info", "saved"); err != nil {
		t.Fatal(err)
	}
	wantDropped(t, m, a, "another request's Destroy (logout)")
	s.wantMissing(t, st, id, "after an in-flight request committed over a destroyed session")
}

func (s *suite) rRenew(t *testing.T, st session.ConditionalStore) {
	m := s.manager(t, st, session.Config{})
	id := login(t, m, "ana")
	a := inFlight(t, m, id)
	res := request(t, m, id, func(sess *session.Session) error { return sess.Renew() })
	if err := a.Put("k", "v"); err != nil {
		t.Fatal(err)
	}
	wantDropped(t, m, a, "another request renewed its ID (login)")
	s.wantMissing(t, st, id, "the pre-login ID, after an in-flight request committed over it")
	wantN(t, m, res.ID, 1, "the renewed session")
}

// rRevokeRenew renews a session in a request that loaded it before the user
// was revoked: the new ID must not carry the revoked session on.
func (s *suite) rRevokeRenew(t *testing.T, st session.ConditionalStore) {
	if _, ok := st.(session.UserIndex); !ok {
		t.Skip("the store does not implement session.UserIndex")
	}
	m := s.manager(t, st, session.Config{})
	id := login(t, m, "mallory")
	a := inFlight(t, m, id)
	if err := a.Renew(); err != nil {
		t.Fatal(err)
	}
	newID, err := a.ID()
	if err != nil {
		t.Fatal(err)
	}
	if n, err := m.RevokeUser(t.Context(), "mallory"); err != nil || n != 1 {
		t.Fatalf("RevokeUser(mallory) = %d, %v; want 1", n, err)
	}
	res, err := m.Commit(t.Context(), a)
	if !errors.Is(err, session.ErrEnded) || res.Cookie != session.CookieKeep {
		t.Fatalf("committing a Renew of a revoked session = %+v, %v; want CookieKeep and session.ErrEnded", res, err)
	}
	s.wantMissing(t, st, id, "the revoked ID after the in-flight Renew")
	if res.ID != "" {
		newID = res.ID
	}
	s.wantMissing(t, st, newID, "the ID the in-flight Renew would have given the revoked session")
}

// rRenewMerges renews a session in a request that loaded it before another
// request changed it: the renewed session carries the other change too.
func (s *suite) rRenewMerges(t *testing.T, st session.ConditionalStore) {
	m := s.manager(t, st, session.Config{})
	id := login(t, m, "ana")
	a := inFlight(t, m, id)
	request(t, m, id, func(sess *session.Session) error { return sess.Put("other", "kept") })
	if err := a.Renew(); err != nil {
		t.Fatal(err)
	}
	if err := a.Put("mine", "kept"); err != nil {
		t.Fatal(err)
	}
	res, err := m.Commit(t.Context(), a)
	if err != nil || res.Cookie != session.CookieSet || res.ID == id {
		t.Fatalf("committing the Renew = %+v, %v; want a cookie with a new ID", res, err)
	}
	s.wantMissing(t, st, id, "the old ID after Renew")
	request(t, m, res.ID, func(sess *session.Session) error {
		for _, k := range []string{"other", "mine"} {
			if v, err := session.Get[string](sess, k); err != nil || v != "kept" {
				t.Errorf("renewed session: %s = %q, %v; want \"kept\"", k, v, err)
			}
		}
		if u, err := sess.User(); err != nil || u != "ana" {
			t.Errorf("renewed session: user %q, %v; want ana", u, err)
		}
		return nil
	})
}

// together runs n requests on the session id: each loads it, waits until
// all have loaded, then runs change and commits. It returns the commit
// errors.
func together(t *testing.T, m *session.Manager, id string, n int, change func(i int, sess *session.Session) error) []error {
	t.Helper()
	var loaded, wg sync.WaitGroup
	loaded.Add(n)
	release := make(chan struct{})
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			sess := m.Open(t.Context(), id)
			_, err := sess.IsNew()
			loaded.Done()
			if err != nil {
				errs[i] = err
				return
			}
			<-release
			if err := change(i, sess); err != nil {
				errs[i] = err
				return
			}
			_, errs[i] = m.Commit(t.Context(), sess)
		})
	}
	loaded.Wait()
	close(release)
	wg.Wait()
	return errs
}

const racers = 20

func (s *suite) rDistinctKeys(t *testing.T, st session.ConditionalStore) {
	m := s.manager(t, st, session.Config{})
	id := login(t, m, "")
	errs := together(t, m, id, racers, func(i int, sess *session.Session) error {
		return sess.Put(fmt.Sprint("k", i), i)
	})
	for i, err := range errs {
		if err != nil {
			t.Errorf("request %d of %d: %v", i, racers, err)
		}
	}
	kept := 0
	request(t, m, id, func(sess *session.Session) error {
		for i := range racers {
			if v, err := session.Get[int](sess, fmt.Sprint("k", i)); err == nil && v == i {
				kept++
			}
		}
		if n, err := session.Get[int](sess, "n"); err != nil || n != 1 {
			t.Errorf("n = %d, %v after the racing requests; want the login's 1 kept", n, err)
		}
		return nil
	})
	if kept != racers {
		t.Fatalf("%d concurrent requests each put a different key; %d of %d kept", racers, kept, racers)
	}
}

func (s *suite) rIncrements(t *testing.T, st session.ConditionalStore) {
	m := s.manager(t, st, session.Config{})
	id := login(t, m, "")
	errs := together(t, m, id, racers, func(_ int, sess *session.Session) error {
		return session.Update(sess, "views", func(n int) int { return n + 1 })
	})
	for i, err := range errs {
		if err != nil {
			t.Errorf("request %d of %d: %v", i, racers, err)
		}
	}
	request(t, m, id, func(sess *session.Session) error {
		if n, err := session.Get[int](sess, "views"); err != nil || n != racers {
			t.Fatalf("%d concurrent Update increments gave views = %d, %v; want %d", racers, n, err, racers)
		}
		return nil
	})
}

// rSameKey: two requests put one key; the one that commits later wins.
func (s *suite) rSameKey(t *testing.T, st session.ConditionalStore) {
	m := s.manager(t, st, session.Config{})
	id := login(t, m, "")
	a, b := inFlight(t, m, id), inFlight(t, m, id)
	if err := a.Put("color", "red"); err != nil {
		t.Fatal(err)
	}
	if err := b.Put("color", "blue"); err != nil {
		t.Fatal(err)
	}
	if err := b.Put("b", true); err != nil {
		t.Fatal(err)
	}
	for _, sess := range []*session.Session{b, a} {
		if _, err := m.Commit(t.Context(), sess); err != nil {
			t.Fatalf("Commit: %v", err)
		}
	}
	request(t, m, id, func(sess *session.Session) error {
		c, err := session.Get[string](sess, "color")
		if err != nil || c != "red" {
			t.Errorf("color = %q, %v; want the later commit's \"red\"", c, err)
		}
		if v, err := session.Get[bool](sess, "b"); err != nil || !v {
			t.Errorf("b = %v, %v; want the earlier commit's other key kept", v, err)
		}
		return nil
	})
}

// condCounting counts the calls that reach a ConditionalStore: counting's,
// with LoadVersion counted as a load and Insert and Replace as saves.
type condCounting struct {
	counting
	cond session.ConditionalStore
}

func newCondCounting(st session.ConditionalStore) *condCounting {
	return &condCounting{counting: counting{Store: st}, cond: st}
}

func (c *condCounting) LoadVersion(ctx context.Context, id string) ([]byte, time.Time, []byte, bool, error) {
	c.loads.Add(1)
	return c.cond.LoadVersion(ctx, id)
}

func (c *condCounting) Insert(ctx context.Context, id string, data []byte, exp time.Time) (bool, error) {
	c.saves.Add(1)
	return c.cond.Insert(ctx, id, data, exp)
}

func (c *condCounting) Replace(ctx context.Context, id string, data []byte, exp time.Time, ver []byte) error {
	c.saves.Add(1)
	return c.cond.Replace(ctx, id, data, exp, ver)
}

// writes returns the calls that wrote: saves, touches and deletes.
func (c *condCounting) writes() int64 {
	return c.saves.Load() + c.touches.Load() + c.deletes.Load()
}

// rUnmodified: with the capability, a read costs one load and no write.
func (s *suite) rUnmodified(t *testing.T, st session.ConditionalStore) {
	c := newCondCounting(st)
	m := s.manager(t, c, session.Config{})
	id := login(t, m, "")
	l0, w0 := c.loads.Load(), c.writes()
	wantN(t, m, id, 1, "reading")
	if l, w := c.loads.Load()-l0, c.writes()-w0; l != 1 || w != 0 {
		t.Fatalf("a read-only request made %d loads and %d writes; want 1 and 0", l, w)
	}
	request(t, m, id, func(sess *session.Session) error { return sess.Put("n", 2) })
	if l, w := c.loads.Load()-l0, c.writes()-w0; l != 2 || w != 1 {
		t.Fatalf("after a modifying request with no conflict: %d loads and %d writes in all; want 2 and 1", l, w)
	}
	wantN(t, m, id, 2, "after the modifying request")
}
