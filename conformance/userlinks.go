package conformance

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/session"
)

// linkUntil saves each id expiring at exp, carrying user, and links it with
// that expiry, as the Manager does after a save.
func (s *suite) linkUntil(t *testing.T, st session.Store, user string, exp time.Time, ids ...string) {
	t.Helper()
	ui := st.(session.UserIndex)
	for _, id := range ids {
		s.save(t, st, id, s.userData(id, user), exp)
		if err := ui.LinkUser(t.Context(), user, id, exp); err != nil {
			t.Fatalf("LinkUser(%q, %s, %s): %v", user, showID(id), showExp(exp), err)
		}
	}
}

// pruneIfAny runs Prune when the store has it: links may wait for a Prune
// to end.
func (s *suite) pruneIfAny(t *testing.T, st session.Store) {
	t.Helper()
	if p, ok := st.(session.Pruner); ok {
		s.prune(t, p)
	}
}

// wantUserHas fails unless UserSessions(user) includes each of want; it may
// include more.
func (s *suite) wantUserHas(t *testing.T, ui session.UserIndex, user, when string, want ...string) {
	t.Helper()
	got, err := ui.UserSessions(t.Context(), user)
	if err != nil {
		t.Fatalf("%s: UserSessions(%q): %v", when, user, err)
	}
	for _, id := range want {
		if !slices.Contains(got, id) {
			t.Fatalf("%s: UserSessions(%q) = %s, without the live session %s (the contract: UserSessions must not omit a live session linked until an expiry still ahead; \"log out everywhere\" would miss it)",
				when, user, showIDs(got), showID(id))
		}
	}
}

// usersLinksEnd checks that links end: once every session linked to a user
// has expired (and Prune has run, for a Pruner), UserSessions returns none
// of them. A store whose links never expire grows without bound.
func (s *suite) usersLinksEnd(t *testing.T, st session.Store) {
	ui := capability[session.UserIndex](t, st)
	s.timed(t, func(w window) bool {
		s.linkUntil(t, st, "u", w.deadline, "a", "b")
		if !w.open() {
			return false
		}
		w.wait()
		return true
	})
	s.pruneIfAny(t, st)
	got, err := ui.UserSessions(t.Context(), "u")
	if err != nil {
		t.Fatalf("UserSessions(\"u\"): %v", err)
	}
	if len(got) > 0 {
		t.Fatalf("UserSessions(\"u\") after every session linked to u expired (and Prune ran, if the store has it) = %s; want none (the contract: links must not outlive their sessions without bound: a link may be reported after its session ended, but not once every expiry passed to LinkUser for that user has passed)",
			showIDs(got))
	}
}

// usersLongestLink links a long-lived and a short-lived session to one user,
// in both orders: once the short one has expired the long one must still be
// found. A per-user index whose lifetime is set by each LinkUser (an EXPIRE
// without GT) follows the last link, and one set only once (NX) the first.
func (s *suite) usersLongestLink(t *testing.T, st session.Store) {
	ui := capability[session.UserIndex](t, st)
	long := later()
	s.timed(t, func(w window) bool {
		s.linkUntil(t, st, "long-first", long, "a-long")
		s.linkUntil(t, st, "long-first", w.deadline, "a-short")
		s.linkUntil(t, st, "short-first", w.deadline, "b-short")
		s.linkUntil(t, st, "short-first", long, "b-long")
		if !w.open() {
			return false
		}
		w.wait()
		return true
	})
	s.pruneIfAny(t, st)
	s.wantUserHas(t, ui, "long-first", "after linking a session expiring in an hour, then one expiring at once, which has expired", "a-long")
	s.wantUserHas(t, ui, "short-first", "after linking a session expiring at once, then one expiring in an hour, and the first expired", "b-long")
}

// usersRelink checks what the Manager relies on when it touches a session
// that carries a user: it links it again with the new expiry, and the link
// must then last that long.
func (s *suite) usersRelink(t *testing.T, st session.Store) {
	ui := capability[session.UserIndex](t, st)
	exp := later()
	s.timed(t, func(w window) bool {
		s.linkUntil(t, st, "u", w.deadline, "a")
		s.touch(t, st, "a", exp)
		if err := ui.LinkUser(t.Context(), "u", "a", exp); err != nil {
			t.Fatalf("LinkUser(\"u\", \"a\", %s) after Touch: %v", showExp(exp), err)
		}
		if !w.open() {
			return false
		}
		w.wait()
		return true
	})
	s.pruneIfAny(t, st)
	s.wantRecord(t, st, "a", s.userData("a", "u"), exp, "after Touch extended it")
	s.wantUserHas(t, ui, "u", "after linking a session until soon, then touching and linking it again for an hour, and the first expiry passed", "a")
}

// persistUsers checks that the user index survives a reopen.
func (s *suite) persistUsers(t *testing.T, st session.Store) {
	capability[session.UserIndex](t, st)
	s.link(t, st, "u", "a", "b")
	s.link(t, st, "v", "c")
	st = s.reopen(t, st)
	ui, ok := st.(session.UserIndex)
	if !ok {
		t.Fatal("the store Reopen returned does not implement session.UserIndex, though the one it replaced did")
	}
	s.wantUserSessions(t, ui, "u", "a", "b")
	s.wantUserSessions(t, ui, "v", "c")
}

// mRevokeAfterTouch checks the user index under the Manager: a session kept
// alive by requests past the expiry it was first linked with must still be
// found by RevokeUser, since the Manager links it again at every touch.
func (s *suite) mRevokeAfterTouch(t *testing.T, st session.Store) {
	if _, ok := st.(session.UserIndex); !ok {
		t.Skip("the store does not implement session.UserIndex")
	}
	s.retry(t, 2*s.gran+300*time.Millisecond, func(idle time.Duration) bool {
		m := s.manager(t, st, session.Config{IdleTimeout: idle, TouchInterval: -1})
		t0 := time.Now()
		id := login(t, m, "ana")
		time.Sleep(idle / 2)
		if !readN(t, m, id, 1) || time.Now().After(t0.Add(idle-s.gran)) {
			return false // too slow to tell: the touch came too late
		}
		time.Sleep(time.Until(t0.Add(idle + s.gran + slack)))
		s.pruneIfAny(t, st)
		n, err := m.RevokeUser(t.Context(), "ana")
		if err != nil {
			t.Fatalf("RevokeUser(ana): %v", err)
		}
		if n != 1 {
			if _, _, found := s.load(t, st, id); !found {
				return false // expired meanwhile: too slow to tell
			}
			t.Fatalf("RevokeUser(ana) = %d after a request extended the session past the expiry it was first linked with; want 1 (the contract: the Manager calls LinkUser after every touch, and the link must last until the expiry it was last given)", n)
		}
		wantEnded(t, m, id, "after RevokeUser")
		return true
	})
}

// usersMany links a few hundred sessions to one user, as a shared kiosk
// account or a long-lived API user may have: UserSessions must return them
// all, not the first page of the index.
func (s *suite) usersMany(t *testing.T, st session.Store) {
	ui := capability[session.UserIndex](t, st)
	const n = 300
	exp := later()
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("m%03d", i)
	}
	err := fanOut(ids, func(id string) error {
		if err := st.Save(t.Context(), id, s.userData(id, "many"), exp); err != nil {
			return fmt.Errorf("Save(%s): %v", showID(id), err)
		}
		if err := ui.LinkUser(t.Context(), "many", id, exp); err != nil {
			return fmt.Errorf("LinkUser(\"many\", %s): %v", showID(id), err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := ui.UserSessions(t.Context(), "many")
	if err != nil {
		t.Fatalf("UserSessions(\"many\"): %v", err)
	}
	var missing []string
	for _, id := range ids {
		if !slices.Contains(got, id) {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		t.Fatalf("UserSessions(\"many\") after linking %d live sessions returned %d, missing %d such as %s (the contract: UserSessions must not omit a live linked session; read every page of the index)",
			n, len(got), len(missing), showIDs(firstSorted(missing, 5)))
	}
}
