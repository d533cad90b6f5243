package conformance

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/session"
)

func (s *suite) counterCases() []testCase {
	return []testCase{
		{"empty", s.countEmpty},
		{"live-only", s.countLiveOnly},
		{"after-expiry", s.countAfterExpiry},
		{"upsert", s.countUpsert},
	}
}

func (s *suite) prunerCases() []testCase {
	return []testCase{
		{"expired-only", s.pruneExpiredOnly},
		{"idempotent", s.pruneIdempotent},
		{"nothing-expired", s.pruneNothingExpired},
		{"many", s.pruneMany},
	}
}

func (s *suite) iteratorCases() []testCase {
	return []testCase{
		{"live-once", s.iterateLiveOnce},
		{"stop-on-error", s.iterateStops},
		{"nothing-live", s.iterateNothingLive},
		{"many", s.iterateMany},
	}
}

func (s *suite) userIndexCases() []testCase {
	return []testCase{
		{"linked", s.usersLinked},
		{"unlink", s.usersUnlink},
		{"separate-users", s.usersSeparate},
		{"unknown-user", s.usersUnknown},
		{"links-end", s.usersLinksEnd},
		{"longest-link", s.usersLongestLink},
		{"relink-extends", s.usersRelink},
		{"many", s.usersMany},
	}
}

func (s *suite) pingerCases() []testCase {
	return []testCase{{"healthy", s.pingHealthy}}
}

func (s *suite) closerCases() []testCase {
	return []testCase{{"after-close", s.afterClose}, {"during-calls", s.closeDuringCalls}}
}

// expireSome saves the live records to expire in an hour and the dying ones
// to expire soon, and returns, with the live records' expiry, once the dying
// ones have expired.
func (s *suite) expireSome(t *testing.T, st session.Store, live, dying []string) time.Time {
	t.Helper()
	exp := later()
	s.timed(t, func(w window) bool {
		s.saveAll(t, st, exp, live...)
		s.saveAll(t, st, w.deadline, dying...)
		if !w.open() {
			return false
		}
		w.wait()
		return true
	})
	return exp
}

// saveAll saves each id with data(id), expiring at exp.
func (s *suite) saveAll(t *testing.T, st session.Store, exp time.Time, ids ...string) {
	t.Helper()
	for _, id := range ids {
		s.save(t, st, id, s.data(id), exp)
	}
}

// wantLive fails unless each id holds data(id), expiring at exp.
func (s *suite) wantLive(t *testing.T, st session.Store, exp time.Time, when string, ids ...string) {
	t.Helper()
	for _, id := range ids {
		s.wantRecord(t, st, id, s.data(id), exp, when)
	}
}

func (s *suite) wantCount(t *testing.T, c session.Counter, want int64, when string) {
	t.Helper()
	n, err := c.Count(t.Context())
	if err != nil {
		t.Fatalf("%s: Count: %v", when, err)
	}
	if n != want {
		t.Fatalf("%s: Count = %d; want %d", when, n, want)
	}
}

func (s *suite) countEmpty(t *testing.T, st session.Store) {
	s.wantCount(t, capability[session.Counter](t, st), 0, "on a fresh store")
}

func (s *suite) countLiveOnly(t *testing.T, st session.Store) {
	c := capability[session.Counter](t, st)
	s.saveAll(t, st, later(), "a", "b", "c")
	s.saveAll(t, st, s.past(), "d", "e")
	s.touch(t, st, "never-saved", later())
	s.wantCount(t, c, 3, "after saving 3 live and 2 expired records and touching a missing one")
	s.del(t, st, "c")
	s.wantCount(t, c, 2, "after deleting one of the 3 live records")
}

func (s *suite) countAfterExpiry(t *testing.T, st session.Store) {
	c := capability[session.Counter](t, st)
	s.expireSome(t, st, []string{"a", "b"}, []string{"c", "d"})
	s.wantCount(t, c, 2, "after 2 of 4 records expired")
}

func (s *suite) countUpsert(t *testing.T, st session.Store) {
	c := capability[session.Counter](t, st)
	for i := range 3 {
		s.save(t, st, "a", s.data(fmt.Sprint(i)), later())
	}
	s.wantCount(t, c, 1, "after saving one ID 3 times")
}

func (s *suite) prune(t *testing.T, p session.Pruner) int64 {
	t.Helper()
	n, err := p.Prune(t.Context())
	if err != nil {
		t.Fatalf("Prune: %v", err)
	}
	return n
}

func (s *suite) pruneExpiredOnly(t *testing.T, st session.Store) {
	p := capability[session.Pruner](t, st)
	exp := s.expireSome(t, st, []string{"a", "b"}, []string{"c", "d", "e"})
	if n := s.prune(t, p); n != 3 {
		t.Fatalf("Prune after 3 of 5 records expired = %d; want 3 (a background pruner in the store New returns may have removed them first)", n)
	}
	s.wantLive(t, st, exp, "after Prune", "a", "b")
	for _, id := range []string{"c", "d", "e"} {
		s.wantMissing(t, st, id, "after it expired and Prune ran")
	}
}

func (s *suite) pruneIdempotent(t *testing.T, st session.Store) {
	p := capability[session.Pruner](t, st)
	exp := s.expireSome(t, st, []string{"a"}, []string{"b", "c"})
	s.prune(t, p)
	if n := s.prune(t, p); n != 0 {
		t.Fatalf("a second Prune = %d; want 0", n)
	}
	s.wantLive(t, st, exp, "after Prune ran twice", "a")
}

func (s *suite) pruneNothingExpired(t *testing.T, st session.Store) {
	p := capability[session.Pruner](t, st)
	if n := s.prune(t, p); n != 0 {
		t.Fatalf("Prune on a fresh store = %d; want 0", n)
	}
	exp := later()
	s.saveAll(t, st, exp, "a", "b")
	if n := s.prune(t, p); n != 0 {
		t.Fatalf("Prune with only live records = %d; want 0", n)
	}
	s.wantLive(t, st, exp, "after Prune", "a", "b")
}

// collect gathers what Iterate yields, copying each record's data, and fails
// the case when an ID comes twice.
func (s *suite) collect(t *testing.T, it session.Iterator) map[string]session.Record {
	t.Helper()
	recs := map[string]session.Record{}
	err := it.Iterate(t.Context(), func(r session.Record) error {
		if _, dup := recs[r.ID]; dup {
			return fmt.Errorf("yielded %s twice", showID(r.ID))
		}
		r.Data = bytes.Clone(r.Data)
		recs[r.ID] = r
		return nil
	})
	if err != nil {
		t.Fatalf("Iterate: %v", err)
	}
	return recs
}

func (s *suite) wantIDs(t *testing.T, recs map[string]session.Record, want ...string) {
	t.Helper()
	got := slices.Sorted(maps.Keys(recs))
	if !sameSet(got, want) {
		t.Fatalf("Iterate yielded %s; want %s", showIDs(got), showIDs(want))
	}
}

func (s *suite) iterateLiveOnce(t *testing.T, st session.Store) {
	it := capability[session.Iterator](t, st)
	want := map[string]session.Record{}
	for i, id := range []string{"a", "b", "c"} {
		r := session.Record{ID: id, Data: s.sized(id, 100*i), ExpiresAt: later().Add(time.Duration(i) * time.Hour)}
		s.save(t, st, id, r.Data, r.ExpiresAt)
		want[id] = r
	}
	s.save(t, st, "expired", s.data("expired"), s.past())
	s.save(t, st, "deleted", s.data("deleted"), later())
	s.del(t, st, "deleted")
	s.save(t, st, "touched-past", s.data("touched-past"), later())
	s.touch(t, st, "touched-past", s.past())

	recs := s.collect(t, it)
	s.wantIDs(t, recs, "a", "b", "c")
	for id, r := range recs {
		w := want[id]
		if !s.same(r.Data, w.Data) {
			t.Errorf("Iterate yielded %s with data %s; want %s", showID(id), show(r.Data), show(w.Data))
		}
		if !s.near(r.ExpiresAt, w.ExpiresAt) {
			t.Errorf("Iterate yielded %s expiring %s; want %s (within %v)", showID(id), showExp(r.ExpiresAt), showExp(w.ExpiresAt), s.gran)
		}
	}
}

func (s *suite) iterateStops(t *testing.T, st session.Store) {
	it := capability[session.Iterator](t, st)
	s.saveAll(t, st, later(), "a", "b", "c", "d", "e")
	errStop := errors.New("stop here")
	calls := 0
	err := it.Iterate(t.Context(), func(session.Record) error {
		calls++
		return errStop
	})
	if !errors.Is(err, errStop) {
		t.Errorf("Iterate whose fn failed returned %v; want fn's error", err)
	}
	if calls != 1 {
		t.Errorf("Iterate called fn %d times after it returned an error; want once", calls)
	}
}

func (s *suite) iterateNothingLive(t *testing.T, st session.Store) {
	it := capability[session.Iterator](t, st)
	s.wantIDs(t, s.collect(t, it))
	s.save(t, st, "expired", s.data("expired"), s.past())
	s.wantIDs(t, s.collect(t, it))
}

// link saves each id, as the Manager does before it links a session, and
// links it to user.
func (s *suite) link(t *testing.T, st session.Store, user string, ids ...string) {
	t.Helper()
	ui := st.(session.UserIndex)
	for _, id := range ids {
		exp := later()
		s.save(t, st, id, s.userData(id, user), exp)
		if err := ui.LinkUser(t.Context(), user, id, exp); err != nil {
			t.Fatalf("LinkUser(%q, %s): %v", user, showID(id), err)
		}
	}
}

func (s *suite) unlink(t *testing.T, ui session.UserIndex, user, id string) {
	t.Helper()
	if s.h.UserKey != "" {
		// The Manager unlinks after a save that dropped the user (or a
		// delete); a store that reads the user from the data needs that.
		st := ui.(session.Store)
		if data, exp, found := s.load(t, st, id); found && s.userOf(data) == user {
			s.save(t, st, id, s.data(id), exp)
		}
	}
	if err := ui.UnlinkUser(t.Context(), user, id); err != nil {
		t.Fatalf("UnlinkUser(%q, %s): %v", user, showID(id), err)
	}
}

func (s *suite) wantUserSessions(t *testing.T, ui session.UserIndex, user string, want ...string) {
	t.Helper()
	got, err := ui.UserSessions(t.Context(), user)
	if err != nil {
		t.Fatalf("UserSessions(%q): %v", user, err)
	}
	if !sameSet(got, want) {
		t.Fatalf("UserSessions(%q) = %s; want %s", user, showIDs(got), showIDs(want))
	}
}

func (s *suite) usersLinked(t *testing.T, st session.Store) {
	ui := capability[session.UserIndex](t, st)
	s.link(t, st, "u", "a", "b")
	s.save(t, st, "c", s.data("c"), later())
	s.wantUserSessions(t, ui, "u", "a", "b")
	// The index is not made of sessions: it must not show up as some.
	if c, ok := st.(session.Counter); ok {
		s.wantCount(t, c, 3, "after saving 3 sessions and linking 2 of them to a user")
	}
	if it, ok := st.(session.Iterator); ok {
		s.wantIDs(t, s.collect(t, it), "a", "b", "c")
	}
}

func (s *suite) usersUnlink(t *testing.T, st session.Store) {
	ui := capability[session.UserIndex](t, st)
	s.link(t, st, "u", "a", "b")
	s.unlink(t, ui, "u", "a")
	s.wantUserSessions(t, ui, "u", "b")
	s.unlink(t, ui, "u", "a")
	s.unlink(t, ui, "u", "never-linked")
	s.unlink(t, ui, "nobody", "b")
	s.wantUserSessions(t, ui, "u", "b")
}

// usersSeparate uses user names that a pattern match or a case-insensitive
// comparison would mix up.
func (s *suite) usersSeparate(t *testing.T, st session.Store) {
	ui := capability[session.UserIndex](t, st)
	s.link(t, st, "u1", "a")
	s.link(t, st, "u1*", "b", "c")
	s.link(t, st, "U1", "d")
	s.wantUserSessions(t, ui, "u1", "a")
	s.wantUserSessions(t, ui, "u1*", "b", "c")
	s.wantUserSessions(t, ui, "U1", "d")
}

func (s *suite) usersUnknown(t *testing.T, st session.Store) {
	ui := capability[session.UserIndex](t, st)
	s.wantUserSessions(t, ui, "nobody")
	s.link(t, st, "u", "a")
	s.wantUserSessions(t, ui, "nobody")
}

func (s *suite) pingHealthy(t *testing.T, st session.Store) {
	if err := capability[session.Pinger](t, st).Ping(t.Context()); err != nil {
		t.Fatalf("Ping on a healthy store: %v", err)
	}
}

// afterClose checks that every method of a closed store fails cleanly.
func (s *suite) afterClose(t *testing.T, st session.Store) {
	c := capability[io.Closer](t, st)
	s.prepareProbes(t, st)
	if err := c.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	// The probes run at once, so a store that hangs after Close costs one
	// hang limit, not one per method.
	probes := s.probes()
	outs := make([]outcome, len(probes))
	var wg sync.WaitGroup
	for i, p := range probes {
		wg.Go(func() { outs[i] = guard(func() error { return p.call(t.Context(), st) }) })
	}
	wg.Wait()
	for i, p := range probes {
		switch o := outs[i]; {
		case errors.Is(o.err, errAbsent):
		case o.fault != "":
			t.Errorf("%s after Close %s", p.method, o.fault)
		case o.err == nil:
			t.Errorf("%s after Close returned no error; want one (session.ErrClosed is recommended)", p.method)
		case errors.Is(o.err, errCalledFn):
			t.Errorf("Iterate after Close called fn")
		}
	}
}

// userData is data(tag), carrying user under Harness.UserKey when the store
// reads users from its payloads.
func (s *suite) userData(tag, user string) []byte {
	if s.h.UserKey == "" {
		return s.data(tag)
	}
	b, _ := json.Marshal(map[string]any{"cookie": map[string]any{}, "k": tag, s.h.UserKey: user})
	return b
}

// userOf reads the user a payload carries under Harness.UserKey.
func (s *suite) userOf(data []byte) string {
	var doc map[string]any
	if json.Unmarshal(data, &doc) != nil {
		return ""
	}
	u, _ := doc[s.h.UserKey].(string)
	return u
}

// closeDuringCalls closes the store while goroutines keep calling it: every
// call in flight must complete or fail, none may panic or hang, and the
// calls after Close fail.
func (s *suite) closeDuringCalls(t *testing.T, st session.Store) {
	c := capability[io.Closer](t, st)
	const callers, calls = 16, 200
	ctx := t.Context()
	var (
		wg      sync.WaitGroup
		started sync.WaitGroup
	)
	started.Add(callers)
	for g := range callers {
		wg.Go(func() {
			defer recovered(t)
			id := fmt.Sprint("c", g)
			for i := range calls {
				if i == 1 {
					started.Done()
				}
				o := guard(func() error {
					if err := st.Save(ctx, id, s.data(id), later()); err != nil {
						return err
					}
					_, _, _, err := st.Load(ctx, id)
					return err
				})
				if o.fault != "" {
					t.Errorf("Save or Load of %s while another goroutine closed the store %s (the contract: a call in flight when Close is called completes or returns an error)", showID(id), o.fault)
				}
				if o.err != nil || o.fault != "" {
					if i == 0 {
						started.Done()
					}
					return
				}
			}
		})
	}
	started.Wait()
	if o := guard(c.Close); o.fault != "" {
		t.Errorf("Close while %d goroutines were calling the store %s", callers, o.fault)
	} else if o.err != nil {
		t.Errorf("Close while %d goroutines were calling the store: %v", callers, o.err)
	}
	wg.Wait()
	o := guard(func() error { return st.Save(ctx, "after", s.data("after"), later()) })
	switch {
	case o.fault != "":
		t.Errorf("Save after Close %s", o.fault)
	case o.err == nil:
		t.Errorf("Save after Close, which ran while other calls were in flight, returned no error; want one (session.ErrClosed is recommended)")
	}
}
