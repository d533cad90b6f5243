package session_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/codecs/jsoncodec"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/stores/memstore"
)

// events counts session events.
type events struct {
	mu sync.Mutex
	n  map[session.Event]int64
}

func (e *events) StoreCall(session.Op, time.Duration, error) {}
func (e *events) SessionEvent(ev session.Event, n int64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.n == nil {
		e.n = map[session.Event]int64{}
	}
	e.n[ev] += n
}
func (e *events) get(ev session.Event) int64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.n[ev]
}

// plain hides the store's ConditionalStore capability.
type plain struct{ session.Store }

func newCondManager(t *testing.T, st session.Store, cfg session.Config) *session.Manager {
	t.Helper()
	cfg.Store, cfg.Codec = st, jsoncodec.New()
	m, err := session.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func commit(t *testing.T, m *session.Manager, s *session.Session) session.CommitResult {
	t.Helper()
	res, err := m.Commit(context.Background(), s)
	if err != nil {
		t.Fatalf("Commit: %v", err)
	}
	return res
}

// A session re-created after logout to carry a flash is a created session,
// with and without the conditional store.
func TestCreatedCountsSessionRecreatedAfterDestroy(t *testing.T) {
	for _, cond := range []bool{true, false} {
		t.Run(fmt.Sprint("conditional=", cond), func(t *testing.T) {
			mem := memstore.New()
			t.Cleanup(func() { mem.Close() })
			var st session.Store = mem
			if !cond {
				st = plain{mem}
			}
			ev := &events{}
			m := newCondManager(t, st, session.Config{Metrics: ev})
			s := m.Open(context.Background(), "")
			_ = s.Put("user_id", "ana")
			id := commit(t, m, s).ID
			s = m.Open(context.Background(), id)
			if err := s.Destroy(); err != nil {
				t.Fatal(err)
			}
			if err := session.AddFlash(s, "info", "signed out"); err != nil {
				t.Fatal(err)
			}
			res := commit(t, m, s)
			if res.Cookie != session.CookieSet || res.ID == id {
				t.Fatalf("commit after Destroy+AddFlash = %+v; want a cookie for a new ID", res)
			}
			if got := ev.get(session.EventCreated); got != 2 {
				t.Fatalf("created = %d after a login and a logout carrying a flash; want 2", got)
			}
			if got := ev.get(session.EventDestroyed); got != 1 {
				t.Fatalf("destroyed = %d; want 1", got)
			}
		})
	}
}

// alwaysConflict is a conditional store whose every Replace finds the
// record changed, as under a writer that never stops.
type alwaysConflict struct {
	*memstore.Store
	replaces int
}

func (a *alwaysConflict) Replace(ctx context.Context, id string, data []byte, exp time.Time, ver []byte) error {
	a.replaces++
	if err := a.Store.Save(ctx, id, data, exp); err != nil {
		return err
	}
	return session.ErrConflict
}

func TestConflictRetriesAreBounded(t *testing.T) {
	mem := memstore.New()
	t.Cleanup(func() { mem.Close() })
	st := &alwaysConflict{Store: mem}
	ev := &events{}
	m := newCondManager(t, st, session.Config{ConflictRetries: 3, Metrics: ev})
	s := m.Open(context.Background(), "")
	_ = s.Put("n", 1)
	id := commit(t, m, s).ID
	s = m.Open(context.Background(), id)
	_ = s.Put("n", 2)
	res, err := m.Commit(context.Background(), s)
	if !errors.Is(err, session.ErrConflict) || res.Cookie != session.CookieKeep {
		t.Fatalf("Commit under endless conflicts = %+v, %v; want an error wrapping ErrConflict", res, err)
	}
	if st.replaces != 4 || ev.get(session.EventConflict) != 4 {
		t.Fatalf("%d replaces, %d conflict events; want 4 (one try and 3 retries)", st.replaces, ev.get(session.EventConflict))
	}
}

// An ended session is reported through errors.Is, a metrics event and a
// debug log, and nothing is written.
func TestEndedIsVisible(t *testing.T) {
	mem := memstore.New()
	t.Cleanup(func() { mem.Close() })
	ev := &events{}
	m := newCondManager(t, mem, session.Config{Metrics: ev})
	s := m.Open(context.Background(), "")
	_ = s.Put("n", 1)
	id := commit(t, m, s).ID
	s = m.Open(context.Background(), id)
	if _, err := session.Get[int](s, "n"); err != nil {
		t.Fatal(err)
	}
	_ = mem.Delete(context.Background(), id)
	_ = s.Put("n", 2)
	res, err := m.Commit(context.Background(), s)
	if !errors.Is(err, session.ErrEnded) || res.Cookie != session.CookieKeep {
		t.Fatalf("Commit over a deleted record = %+v, %v; want CookieKeep and ErrEnded", res, err)
	}
	if ev.get(session.EventEnded) != 1 {
		t.Fatalf("ended events = %d; want 1", ev.get(session.EventEnded))
	}
	if _, _, found, _ := mem.Load(context.Background(), id); found {
		t.Fatal("the deleted session was written back")
	}
}

// Changes re-applied after a conflict: a consumed flash stays consumed, a
// flash another request added survives, and the lifetime set stays set.
func TestReapplyFlashesAndLifetime(t *testing.T) {
	mem := memstore.New()
	t.Cleanup(func() { mem.Close() })
	m := newCondManager(t, mem, session.Config{})
	ctx := context.Background()
	s := m.Open(ctx, "")
	_ = session.AddFlash(s, "info", "one")
	id := commit(t, m, s).ID

	a := m.Open(ctx, id)
	msgs, err := session.Flashes(a, "info")
	if err != nil || len(msgs) != 1 || msgs[0] != "one" {
		t.Fatalf("Flashes = %q, %v", msgs, err)
	}
	if err := a.SetIdleTimeout(time.Hour); err != nil {
		t.Fatal(err)
	}
	b := m.Open(ctx, id)
	_ = session.AddFlash(b, "info", "two")
	_ = b.Put("b", true)
	commit(t, m, b)
	commit(t, m, a) // conflicts with b, reloads and re-applies

	c := m.Open(ctx, id)
	msgs, err = session.Flashes(c, "info")
	if err != nil || len(msgs) != 1 || msgs[0] != "two" {
		t.Fatalf("after the merge Flashes = %q, %v; want only the flash added concurrently", msgs, err)
	}
	if v, err := session.Get[bool](c, "b"); err != nil || !v {
		t.Fatalf("b = %v, %v; want the other request's key kept", v, err)
	}
	_, exp, _, _ := mem.Load(ctx, id)
	if d := time.Until(exp); d > time.Hour+time.Minute || d < time.Hour-time.Minute {
		t.Fatalf("expiry in %v; want about the hour SetIdleTimeout gave", d)
	}
}

// staleStore refuses its first Replace with a StaleError carrying the
// record, as a store that reads it while refusing does.
type staleStore struct {
	*memstore.Store
	refused, loads int
}

func (s *staleStore) LoadVersion(ctx context.Context, id string) ([]byte, time.Time, []byte, bool, error) {
	s.loads++
	return s.Store.LoadVersion(ctx, id)
}

func (s *staleStore) Replace(ctx context.Context, id string, data []byte, exp time.Time, ver []byte) error {
	if s.refused == 0 {
		s.refused++
		cur, curExp, curVer, _, err := s.Store.LoadVersion(ctx, id)
		if err != nil {
			return err
		}
		return &session.StaleError{Data: cur, ExpiresAt: curExp, Version: curVer}
	}
	return s.Store.Replace(ctx, id, data, exp, ver)
}

// A StaleError is the Manager's reload: the retry costs no LoadVersion.
func TestStaleErrorSparesTheReload(t *testing.T) {
	mem := memstore.New()
	t.Cleanup(func() { mem.Close() })
	st := &staleStore{Store: mem}
	m := newCondManager(t, st, session.Config{})
	s := m.Open(context.Background(), "")
	_ = s.Put("a", 1)
	id := commit(t, m, s).ID
	s = m.Open(context.Background(), id)
	_ = session.Update(s, "a", func(n int) int { return n + 1 })
	commit(t, m, s)
	if st.refused != 1 || st.loads != 1 {
		t.Fatalf("%d refusals, %d loads; want 1 and 1 (the request's own load only)", st.refused, st.loads)
	}
	s = m.Open(context.Background(), id)
	if n, err := session.Get[int](s, "a"); err != nil || n != 2 {
		t.Fatalf("a = %d, %v; want 2", n, err)
	}
}

// With Config.IDHashKey the conditional calls use the hashed key, as the
// plain ones do: a conflict merges, an ended session stays ended, and no
// record is ever written under the raw ID.
func TestConditionalWithHashedIDs(t *testing.T) {
	mem := memstore.New()
	t.Cleanup(func() { mem.Close() })
	key := []byte("0123456789abcdef0123456789abcdef")
	m := newCondManager(t, mem, session.Config{IDHashKey: key})
	ctx := context.Background()
	s := m.Open(ctx, "")
	_ = s.Put("n", 1)
	id := commit(t, m, s).ID

	a, b := m.Open(ctx, id), m.Open(ctx, id)
	_ = a.Put("a", true)
	_ = b.Put("b", true)
	commit(t, m, b)
	commit(t, m, a) // conflicts, reloads under the hashed key, merges
	c := m.Open(ctx, id)
	for _, k := range []string{"a", "b"} {
		if v, err := session.Get[bool](c, k); err != nil || !v {
			t.Fatalf("%s = %v, %v; want both requests' keys kept", k, v, err)
		}
	}
	if _, _, found, _ := mem.Load(ctx, id); found {
		t.Fatal("a record was written under the raw ID")
	}
	if _, _, found, _ := mem.Load(ctx, session.HashID(key, id)); !found {
		t.Fatal("no record under the hashed ID")
	}

	d := m.Open(ctx, id)
	_, _ = d.Keys()
	_ = mem.Delete(ctx, session.HashID(key, id)) // revoked elsewhere
	_ = d.Put("late", 1)
	if _, err := m.Commit(ctx, d); !errors.Is(err, session.ErrEnded) {
		t.Fatalf("Commit over a deleted record = %v; want ErrEnded", err)
	}
	if _, _, found, _ := mem.Load(ctx, session.HashID(key, id)); found {
		t.Fatal("the deleted session was written back")
	}
}

// linkCounting counts the LinkUser calls that reach a memstore, keeping its
// ConditionalStore capability.
type linkCounting struct {
	*memstore.Store
	links int
}

func (c *linkCounting) LinkUser(ctx context.Context, user, id string, exp time.Time) error {
	c.links++
	return c.Store.LinkUser(ctx, user, id, exp)
}

// A renew (login) through a ConditionalStore links the new ID to its user
// once: the link made before the old record is checked serves the commit.
func TestRenewConditionalLinksOnce(t *testing.T) {
	mem := memstore.New()
	t.Cleanup(func() { mem.Close() })
	st := &linkCounting{Store: mem}
	m := newCondManager(t, st, session.Config{})
	ctx := context.Background()
	s := m.Open(ctx, "")
	_ = s.SetUser("ana")
	id := commit(t, m, s).ID
	before := st.links
	s = m.Open(ctx, id)
	_ = s.Renew()
	newID := commit(t, m, s).ID
	if n := st.links - before; n != 1 {
		t.Errorf("a renew made %d LinkUser calls; want 1", n)
	}
	infos, err := m.UserSessions(ctx, "ana")
	if err != nil || len(infos) != 1 || infos[0].ID != newID {
		t.Fatalf("UserSessions(ana) = %v, %v; want the renewed session only", infos, err)
	}
}
