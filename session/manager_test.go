package session

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

type fixture struct {
	t    *testing.T
	clk  *clock
	st   *testStore
	m    *Manager
	met  *countingMetrics
	logs *bytes.Buffer
}

func newFixture(t *testing.T, mod func(*Config)) *fixture {
	t.Helper()
	f := &fixture{t: t, clk: &clock{t: time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)}, logs: &bytes.Buffer{}}
	f.st = newTestStore(f.clk.now)
	f.met = &countingMetrics{events: map[Event]int64{}, calls: map[Op]int{}}
	cfg := Config{Store: f.st, Codec: testCodec{}, Metrics: f.met,
		Logger: slog.New(slog.NewTextHandler(f.logs, nil)), now: f.clk.now}
	if mod != nil {
		mod(&cfg)
	}
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	f.m = m
	return f
}

// request opens the session for id, runs fn on it and commits.
func (f *fixture) request(id string, fn func(s *Session)) CommitResult {
	f.t.Helper()
	s := f.m.Open(context.Background(), id)
	if fn != nil {
		fn(s)
	}
	res, err := f.m.Commit(context.Background(), s)
	if err != nil {
		f.t.Fatalf("Commit: %v", err)
	}
	return res
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// login creates a session holding n=1 and returns its ID.
func (f *fixture) login(user string) string {
	f.t.Helper()
	res := f.request("", func(s *Session) {
		must(f.t, s.Put("n", 1))
		if user != "" {
			must(f.t, s.SetUser(user))
		}
	})
	if res.Cookie != CookieSet || res.ID == "" {
		f.t.Fatalf("new modified session: got %+v, want a cookie set", res)
	}
	return res.ID
}

func TestNewRejectsBadConfig(t *testing.T) {
	st := newTestStore(time.Now)
	for name, cfg := range map[string]Config{
		"no store":      {Codec: testCodec{}},
		"no codec":      {Store: st},
		"never expires": {Store: st, Codec: testCodec{}, IdleTimeout: -1, AbsoluteTimeout: -1},
		"bad samesite":  {Store: st, Codec: testCodec{}, Cookie: CookieOptions{SameSite: "sometimes"}},
		"bad priority":  {Store: st, Codec: testCodec{}, Cookie: CookieOptions{Priority: "urgent"}},
		"reserved user": {Store: st, Codec: testCodec{}, UserKey: "cookie"},
		"codec refused": {Store: jsonOnlyStore{st}, Codec: testCodec{}},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("%s: New succeeded, want an error", name)
		}
	}
}

type jsonOnlyStore struct{ *testStore }

func (jsonOnlyStore) CheckCodec(c Codec) error {
	if c.Name() != "json" {
		return errors.New("the json column holds only JSON")
	}
	return nil
}

func TestDefaults(t *testing.T) {
	m, err := New(Config{Store: newTestStore(time.Now), Codec: testCodec{}})
	must(t, err)
	c := m.Config()
	if c.IdleTimeout != 24*time.Hour || c.AbsoluteTimeout != 7*24*time.Hour || c.TouchInterval != c.IdleTimeout/10 {
		t.Errorf("timeouts: got idle %v absolute %v touch %v", c.IdleTimeout, c.AbsoluteTimeout, c.TouchInterval)
	}
	if c.UserKey != "user_id" || c.Cookie.Name != "session" || c.Cookie.Path != "/" || c.Cookie.SameSite != "lax" {
		t.Errorf("defaults: got %+v", c)
	}
}

func TestUnusedSessionMakesNoStoreCall(t *testing.T) {
	f := newFixture(t, nil)
	id := f.login("")
	before := f.st.total()
	if res := f.request(id, nil); res.Cookie != CookieKeep {
		t.Errorf("unused session: cookie action %v, want keep", res.Cookie)
	}
	if res := f.request("", nil); res.Cookie != CookieKeep {
		t.Errorf("untouched new session: cookie action %v, want keep", res.Cookie)
	}
	if n := f.st.total() - before; n != 0 {
		t.Errorf("unused sessions made %d store calls, want 0", n)
	}
}

func TestNewSessionReadOnlyIsNotSaved(t *testing.T) {
	f := newFixture(t, nil)
	res := f.request("", func(s *Session) {
		if _, err := Get[int](s, "n"); !errors.Is(err, ErrNotFound) {
			t.Errorf("Get on a new session: %v, want ErrNotFound", err)
		}
	})
	if res.Cookie != CookieKeep || f.st.count("save") != 0 {
		t.Errorf("read-only new session: %+v with %d saves, want nothing", res, f.st.count("save"))
	}
}

func TestNewModifiedSessionIsSaved(t *testing.T) {
	f := newFixture(t, nil)
	res := f.request("", func(s *Session) { must(t, s.Put("k", "v")) })
	if len(res.ID) != 32 {
		t.Errorf("ID %q: want 32 characters", res.ID)
	}
	if want := f.clk.now().Add(24 * time.Hour); !res.ExpiresAt.Equal(want) {
		t.Errorf("ExpiresAt %v, want %v", res.ExpiresAt, want)
	}
	if f.st.count("save") != 1 || f.met.event(EventCreated) != 1 {
		t.Errorf("saves %d created %d, want 1 and 1", f.st.count("save"), f.met.event(EventCreated))
	}
	f.request(res.ID, func(s *Session) {
		if v, err := Get[string](s, "k"); err != nil || v != "v" {
			t.Errorf("Get after save: %q, %v", v, err)
		}
	})
}

func TestUnmodifiedSessionIsNotWritten(t *testing.T) {
	f := newFixture(t, nil)
	id := f.login("")
	f.clk.advance(time.Hour) // less than the 2.4h touch interval
	res := f.request(id, func(s *Session) {
		if n, err := Get[int](s, "n"); err != nil || n != 1 {
			t.Errorf("Get: %d, %v", n, err)
		}
	})
	if res.Cookie != CookieKeep || f.st.count("save") != 1 || f.st.count("touch") != 0 {
		t.Errorf("read within the touch interval: %+v, saves %d touches %d; want no write", res, f.st.count("save"), f.st.count("touch"))
	}
}

func TestThrottledTouch(t *testing.T) {
	f := newFixture(t, nil)
	id := f.login("")
	f.clk.advance(3 * time.Hour) // past the 2.4h touch interval
	res := f.request(id, func(s *Session) { _, _ = Get[int](s, "n") })
	want := f.clk.now().Add(24 * time.Hour)
	if res.Cookie != CookieSet || !res.ExpiresAt.Equal(want) {
		t.Errorf("touch: %+v, want cookie set to %v", res, want)
	}
	if f.st.count("touch") != 1 || f.st.count("save") != 1 {
		t.Errorf("touches %d saves %d, want 1 and 1 (touch, not rewrite)", f.st.count("touch"), f.st.count("save"))
	}
	// The touch moved the stored expiry: the next read does not touch again.
	f.clk.advance(time.Minute)
	f.request(id, func(s *Session) { _, _ = Get[int](s, "n") })
	if f.st.count("touch") != 1 {
		t.Errorf("touches %d after a second read, want still 1", f.st.count("touch"))
	}
}

func TestTouchEveryRequestWhenIntervalNegative(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.TouchInterval = -1 })
	id := f.login("")
	f.clk.advance(time.Millisecond)
	f.request(id, func(s *Session) { _, _ = Get[int](s, "n") })
	if f.st.count("touch") != 1 {
		t.Errorf("touches %d, want 1", f.st.count("touch"))
	}
}

func TestIdleTimeoutEndsSession(t *testing.T) {
	f := newFixture(t, nil)
	id := f.login("")
	f.clk.advance(25 * time.Hour)
	f.request(id, func(s *Session) {
		if isNew, err := s.IsNew(); err != nil || !isNew {
			t.Errorf("after the idle timeout: IsNew %v, %v; want a new session", isNew, err)
		}
	})
}

func TestAbsoluteTimeout(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.AbsoluteTimeout = 30 * time.Hour; c.TouchInterval = -1 })
	id := f.login("")
	// Active every 20h: the idle timeout never fires, the absolute one must.
	f.clk.advance(20 * time.Hour)
	res := f.request(id, func(s *Session) { _, _ = Get[int](s, "n") })
	if want := f.clk.now().Add(10 * time.Hour); !res.ExpiresAt.Equal(want) {
		t.Errorf("expiry %v: want it capped at the absolute deadline %v", res.ExpiresAt, want)
	}
	f.clk.advance(9 * time.Hour)
	f.request(id, func(s *Session) {
		if isNew, _ := s.IsNew(); isNew {
			t.Error("session ended before its absolute deadline")
		}
	})
	f.clk.advance(2 * time.Hour)
	f.st.mu.Lock()
	r := f.st.recs[id]
	r.exp = f.clk.now().Add(time.Hour) // a store that still holds it
	f.st.recs[id] = r
	f.st.mu.Unlock()
	f.request(id, func(s *Session) {
		if isNew, _ := s.IsNew(); !isNew {
			t.Error("session outlived its absolute deadline")
		}
	})
	if f.met.event(EventAbsoluteExpired) != 1 || f.st.count("delete") != 1 {
		t.Errorf("absolute expiry: events %d deletes %d, want 1 and 1", f.met.event(EventAbsoluteExpired), f.st.count("delete"))
	}
}

func TestUnknownIDIsNotAdopted(t *testing.T) {
	f := newFixture(t, nil)
	res := f.request("attacker-chosen", func(s *Session) { must(t, s.Put("k", 1)) })
	if res.ID == "attacker-chosen" || len(res.ID) != 32 {
		t.Errorf("saved under %q: a client's unknown ID must never be adopted", res.ID)
	}
}

func TestModifyKeepsOtherValues(t *testing.T) {
	f := newFixture(t, nil)
	id := f.login("")
	f.request(id, func(s *Session) { must(t, s.Put("m", "x")) })
	f.request(id, func(s *Session) {
		keys, err := s.Keys()
		if err != nil || strings.Join(keys, ",") != "m,n" {
			t.Errorf("keys %v, %v; want [m n]", keys, err)
		}
	})
}

func TestRenew(t *testing.T) {
	f := newFixture(t, nil)
	id := f.login("")
	res := f.request(id, func(s *Session) { must(t, s.Renew()) })
	if res.Cookie != CookieSet || res.ID == id || res.ID == "" {
		t.Fatalf("renew: %+v, want a new ID", res)
	}
	if _, _, found, _ := f.st.Load(context.Background(), id); found {
		t.Error("old ID still loadable after renew")
	}
	f.request(res.ID, func(s *Session) {
		if n, err := Get[int](s, "n"); err != nil || n != 1 {
			t.Errorf("data after renew: %d, %v", n, err)
		}
	})
	if f.met.event(EventRenewed) != 1 {
		t.Errorf("renewed events %d, want 1", f.met.event(EventRenewed))
	}
}

func TestDestroy(t *testing.T) {
	f := newFixture(t, nil)
	id := f.login("")
	res := f.request(id, func(s *Session) { must(t, s.Destroy()) })
	if res.Cookie != CookieClear {
		t.Errorf("destroy: cookie action %v, want clear", res.Cookie)
	}
	if _, _, found, _ := f.st.Load(context.Background(), id); found {
		t.Error("destroyed session still stored")
	}
	// Destroy then Put: the old session ends, a fresh one starts.
	id = f.login("")
	res = f.request(id, func(s *Session) {
		must(t, s.Destroy())
		must(t, AddFlash(s, "info", "signed out"))
	})
	if res.Cookie != CookieSet || res.ID == id {
		t.Fatalf("destroy then put: %+v, want a new session", res)
	}
	f.request(res.ID, func(s *Session) {
		if _, err := Get[int](s, "n"); !errors.Is(err, ErrNotFound) {
			t.Errorf("old value survived destroy: %v", err)
		}
		if msgs, _ := Flashes(s, "info"); len(msgs) != 1 || msgs[0] != "signed out" {
			t.Errorf("flash %v", msgs)
		}
	})
}

func TestChangeAfterCommit(t *testing.T) {
	f := newFixture(t, nil)
	s := f.m.Open(context.Background(), "")
	must(t, s.Put("a", 1))
	if _, err := f.m.Commit(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	if err := s.Put("b", 2); !errors.Is(err, ErrCommitted) {
		t.Errorf("Put after commit: %v, want ErrCommitted", err)
	}
	if f.met.event(EventLateChange) != 1 || !strings.Contains(f.logs.String(), "after the response was committed") {
		t.Errorf("late change not reported: events %d, log %q", f.met.event(EventLateChange), f.logs.String())
	}
	if res, _ := f.m.Commit(context.Background(), s); res.Cookie != CookieKeep || f.st.count("save") != 1 {
		t.Errorf("second commit wrote again: %+v, saves %d", res, f.st.count("save"))
	}
}

func TestReservedKeys(t *testing.T) {
	f := newFixture(t, nil)
	s := f.m.Open(context.Background(), "")
	// The empty key always, the others because the test codec reserves
	// them (codecs/jsoncodec tests express-session's list).
	for _, k := range []string{"cookie", "toString", "", "__sessionkit"} {
		if err := s.Put(k, 1); !errors.Is(err, ErrReserved) {
			t.Errorf("Put(%q): %v, want ErrReserved", k, err)
		}
	}
	if err := s.Put("cookies", 1); err != nil {
		t.Errorf("Put(cookies): %v", err)
	}
}

func TestLoadFailureNeverOverwrites(t *testing.T) {
	f := newFixture(t, nil)
	id := f.login("")
	f.st.mu.Lock()
	f.st.fail = errors.New("connection refused")
	f.st.mu.Unlock()
	s := f.m.Open(context.Background(), id)
	if _, err := Get[int](s, "n"); err == nil || errors.Is(err, ErrNotFound) {
		t.Errorf("Get with a failing store: %v, want the store error", err)
	}
	if _, err := f.m.Commit(context.Background(), s); err != nil {
		t.Errorf("commit of a session only read after a failed load: %v", err)
	}
	// A handler that ignores Put's error must not end in a commit that
	// reports success: the request would be answered 200 and save nothing.
	s = f.m.Open(context.Background(), id)
	if err := s.Put("n", 2); err == nil {
		t.Error("Put after a failed load succeeded")
	}
	if _, err := f.m.Commit(context.Background(), s); err == nil {
		t.Error("commit after a change attempted on a failed load: nil error, want the load's")
	}
	f.st.mu.Lock()
	f.st.fail = nil
	f.st.mu.Unlock()
	if f.st.count("save") != 1 {
		t.Errorf("saves %d: a failed load must never be written over", f.st.count("save"))
	}
	if strings.Contains(f.logs.String(), id) {
		t.Error("log contains a raw session ID")
	}
}

func TestUndecodableRecordIsMissing(t *testing.T) {
	f := newFixture(t, nil)
	must(t, f.st.Save(context.Background(), "corrupt", []byte("{not json"), f.clk.now().Add(time.Hour)))
	f.request("corrupt", func(s *Session) {
		if isNew, err := s.IsNew(); err != nil || !isNew {
			t.Errorf("corrupt record: IsNew %v, %v; want a new session", isNew, err)
		}
	})
	if f.met.event(EventUndecodable) != 1 || strings.Contains(f.logs.String(), "{not json") {
		t.Errorf("undecodable: events %d, log %q", f.met.event(EventUndecodable), f.logs.String())
	}
}

func TestTypedValues(t *testing.T) {
	type profile struct {
		Name  string   `json:"name"`
		Roles []string `json:"roles"`
	}
	f := newFixture(t, nil)
	res := f.request("", func(s *Session) {
		must(t, s.Put("p", profile{"ana", []string{"admin"}}))
		must(t, s.Put("n", 42))
	})
	f.request(res.ID, func(s *Session) {
		p, err := Get[profile](s, "p")
		if err != nil || p.Name != "ana" || len(p.Roles) != 1 {
			t.Errorf("Get[profile]: %+v, %v", p, err)
		}
		if n, err := Get[int64](s, "n"); err != nil || n != 42 {
			t.Errorf("Get[int64] of a stored number: %d, %v", n, err)
		}
		if _, err := Get[int](s, "p"); !errors.Is(err, ErrType) {
			t.Errorf("Get[int] of an object: %v, want ErrType", err)
		}
		if v, err := Get[any](s, "n"); err != nil || v != float64(42) {
			t.Errorf("Get[any]: %#v, %v", v, err)
		}
		if v, err := GetOr(s, "missing", 7); err != nil || v != 7 {
			t.Errorf("GetOr: %v, %v", v, err)
		}
		if n, err := Pop[int](s, "n"); err != nil || n != 42 {
			t.Errorf("Pop: %d, %v", n, err)
		}
		if ok, _ := s.Has("n"); ok {
			t.Error("Pop left the key")
		}
	})
	s := f.m.Open(context.Background(), "")
	must(t, s.Put("x", "str"))
	if _, err := Get[int](s, "x"); !errors.Is(err, ErrType) {
		t.Errorf("Get[int] of a string put in-process: %v, want ErrType", err)
	}
}

func TestRevokeUser(t *testing.T) {
	f := newFixture(t, nil)
	a1, a2, b := f.login("ana"), f.login("ana"), f.login("bo")
	// a stale link: a3 changed user to bo; it must not be revoked for ana.
	a3 := f.login("ana")
	f.request(a3, func(s *Session) { must(t, s.SetUser("bo")) })

	var others []Info
	f.request(a1, func(s *Session) {
		var err error
		others, err = s.Others()
		must(t, err)
	})
	if len(others) != 2 {
		t.Fatalf("Others: %+v, want ana's 2 sessions", others)
	}
	for _, in := range others {
		if in.Current != (in.ID == a1) || in.ExpiresAt.IsZero() {
			t.Errorf("Others: %+v", in)
		}
	}
	f.request(a1, func(s *Session) {
		n, err := s.RevokeOthers()
		if err != nil || n != 1 {
			t.Errorf("RevokeOthers: %d, %v; want 1", n, err)
		}
	})
	for id, want := range map[string]bool{a1: true, a2: false, b: true, a3: true} {
		if _, _, found, _ := f.st.Load(context.Background(), id); found != want {
			t.Errorf("after RevokeOthers, %s stored = %v, want %v", LogID(id), found, want)
		}
	}
	n, err := f.m.RevokeUser(context.Background(), "ana")
	if err != nil || n != 1 {
		t.Errorf("RevokeUser: %d, %v; want 1", n, err)
	}
	if infos, _ := f.m.UserSessions(context.Background(), "bo"); len(infos) != 2 {
		t.Errorf("bo's sessions: %d, want 2", len(infos))
	}
}

func TestUserOpsUnsupported(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.Store = plainStore{newTestStore(time.Now)} })
	if _, err := f.m.RevokeUser(context.Background(), "u"); !errors.Is(err, ErrUnsupported) {
		t.Errorf("RevokeUser on a store without UserIndex: %v, want ErrUnsupported", err)
	}
	if _, err := f.m.Count(context.Background()); !errors.Is(err, ErrUnsupported) {
		t.Errorf("Count: %v, want ErrUnsupported", err)
	}
}

// plainStore hides the test store's optional capabilities.
type plainStore struct{ s *testStore }

func (p plainStore) Load(ctx context.Context, id string) ([]byte, time.Time, bool, error) {
	return p.s.Load(ctx, id)
}
func (p plainStore) Save(ctx context.Context, id string, d []byte, e time.Time) error {
	return p.s.Save(ctx, id, d, e)
}
func (p plainStore) Touch(ctx context.Context, id string, e time.Time) error {
	return p.s.Touch(ctx, id, e)
}
func (p plainStore) Delete(ctx context.Context, id string) error { return p.s.Delete(ctx, id) }

func TestConcurrentUseOfOneSession(t *testing.T) {
	f := newFixture(t, nil)
	id := f.login("")
	s := f.m.Open(context.Background(), id)
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			key := fmt.Sprintf("k%d", i)
			must(t, s.Put(key, i))
			if _, err := Get[int](s, key); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if _, err := f.m.Commit(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	if keys, _ := f.m.Open(context.Background(), id).Keys(); len(keys) != 17 {
		t.Errorf("keys after concurrent puts: %d, want 17", len(keys))
	}
	if f.st.count("load") != 2 {
		t.Errorf("loads %d, want 2 (one per request)", f.st.count("load"))
	}
}

func TestCookieMirroredIntoRecord(t *testing.T) {
	f := newFixture(t, func(c *Config) {
		c.Cookie = CookieOptions{Secure: true, SameSite: "strict", Domain: "example.com", Partitioned: true}
	})
	s := f.m.Open(context.Background(), "")
	must(t, s.Put("k", 1))
	_, err := f.m.Commit(context.Background(), s)
	must(t, err)
	c := s.state.Cookie
	if c.Secure == nil || !*c.Secure || c.HTTPOnly == nil || !*c.HTTPOnly || c.SameSite != "strict" ||
		c.Domain != "example.com" || c.Path != "/" || c.Partitioned == nil || c.OriginalMaxAge == nil ||
		*c.OriginalMaxAge != (24*time.Hour).Milliseconds() || c.Expires == nil {
		t.Errorf("cookie mirrored into the record: %+v", c)
	}
}

func TestIDs(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		id := NewID()
		if len(id) != 32 || strings.ContainsAny(id, "+/=") || seen[id] {
			t.Fatalf("NewID %q: want 32 unique base64url characters", id)
		}
		seen[id] = true
	}
	id := NewID()
	if l := LogID(id); len(l) != 12 || strings.Contains(id, l) || LogID(id) != l {
		t.Errorf("LogID(%q) = %q", id, l)
	}
}

// foreign stores a record as another application (a Node app) writes it: no
// creation time or deadline, the given per-session maxAge (nil: a
// browser-session cookie) and a user.
func (f *fixture) foreign(id string, maxAge *int64, user string) {
	f.t.Helper()
	data := fmt.Sprintf(`{"created":0,"deadline":0,"values":{"n":1,"user_id":%q}`, user)
	if maxAge != nil {
		data += fmt.Sprintf(`,"maxAge":%d}`, *maxAge)
	} else {
		data += `}`
	}
	must(f.t, f.st.Save(context.Background(), id, []byte(data), f.clk.now().Add(time.Hour)))
}

func TestStoredLifetimeIsKept(t *testing.T) {
	f := newFixture(t, nil)
	month := (30 * 24 * time.Hour).Milliseconds()
	f.foreign("remember", &month, "")
	res := f.request("remember", func(s *Session) { must(t, s.Put("m", 2)) })
	if want := f.clk.now().Add(7 * 24 * time.Hour); !res.ExpiresAt.Equal(want) || res.BrowserSession {
		// 30 days of idle, capped by the 7-day absolute deadline Go adds.
		t.Errorf("a remember-me session saved by Go: %+v, want a persistent cookie to %v", res, want)
	}

	f.foreign("browser", nil, "")
	res = f.request("browser", func(s *Session) { must(t, s.Put("m", 2)) })
	if !res.BrowserSession || !res.ExpiresAt.Equal(f.clk.now().Add(24*time.Hour)) {
		t.Errorf("a browser-session record saved by Go: %+v, want a browser-session cookie, stored for the idle timeout", res)
	}
	f.st.mu.Lock()
	data := string(f.st.recs["browser"].data)
	f.st.mu.Unlock()
	if !strings.Contains(data, `"maxAge":null`) {
		t.Errorf("the browser-session record lost its kind on save: %s", data)
	}
}

func TestSetIdleTimeout(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.AbsoluteTimeout = 90 * 24 * time.Hour })
	res := f.request("", func(s *Session) {
		must(t, s.SetIdleTimeout(30*24*time.Hour))
		if err := s.SetIdleTimeout(0); err == nil {
			t.Error("SetIdleTimeout(0) succeeded")
		}
	})
	if want := f.clk.now().Add(30 * 24 * time.Hour); res.Cookie != CookieSet || !res.ExpiresAt.Equal(want) {
		t.Fatalf("remember-me session: %+v, want saved until %v", res, want)
	}
	// Later reads slide by the session's own window, not the default.
	f.clk.advance(10 * 24 * time.Hour)
	res = f.request(res.ID, func(s *Session) { _, _ = s.Keys() })
	if want := f.clk.now().Add(30 * 24 * time.Hour); !res.ExpiresAt.Equal(want) {
		t.Errorf("touch of a remember-me session: %+v, want %v", res, want)
	}
}

func TestForeignSessionLinkedOnLoad(t *testing.T) {
	f := newFixture(t, nil)
	f.foreign("node-made", nil, "ana")
	f.login("ana")
	n, err := f.m.RevokeUser(context.Background(), "ana")
	if err != nil || n != 1 {
		t.Fatalf("before Go saw it: RevokeUser = %d, %v; want only Go's own session", n, err)
	}
	f.request("node-made", func(s *Session) { _, _ = s.User() })
	if n, err := f.m.RevokeUser(context.Background(), "ana"); err != nil || n != 1 {
		t.Errorf("after Go read it: RevokeUser = %d, %v; want the Node session revoked", n, err)
	}
}

type keyedStore struct{ *testStore }

func (keyedStore) UserKey() string { return "userId" }

func TestUserKeyMismatch(t *testing.T) {
	st := keyedStore{newTestStore(time.Now)}
	if _, err := New(Config{Store: st, Codec: testCodec{}}); err == nil || !strings.Contains(err.Error(), "userId") {
		t.Errorf("New with a store keyed on userId and the default UserKey: %v, want an error naming both", err)
	}
	if _, err := New(Config{Store: st, Codec: testCodec{}, UserKey: "userId"}); err != nil {
		t.Errorf("New with matching keys: %v", err)
	}
}

// durationMetrics records the latency of each store call.
type durationMetrics struct {
	mu   sync.Mutex
	took map[Op]time.Duration
}

func (m *durationMetrics) StoreCall(op Op, d time.Duration, _ error) {
	m.mu.Lock()
	m.took[op] += d
	m.mu.Unlock()
}

func (*durationMetrics) SessionEvent(Event, int64) {}

// slowLoadStore takes at least delay to load.
type slowLoadStore struct {
	*testStore
	delay time.Duration
}

func (s slowLoadStore) Load(ctx context.Context, id string) ([]byte, time.Time, bool, error) {
	time.Sleep(s.delay)
	return s.testStore.Load(ctx, id)
}

func TestStoreCallsAreTimedForAMetricsSink(t *testing.T) {
	const delay = 5 * time.Millisecond
	met := &durationMetrics{took: map[Op]time.Duration{}}
	f := newFixture(t, func(c *Config) {
		c.Store = slowLoadStore{c.Store.(*testStore), delay}
		c.Metrics = met
	})
	res := f.request("", func(s *Session) { must(t, s.Put("n", 1)) })
	f.request(res.ID, func(s *Session) {
		if _, err := Get[int](s, "n"); err != nil {
			t.Fatal(err)
		}
	})
	met.mu.Lock()
	defer met.mu.Unlock()
	if got := met.took[OpLoad]; got < delay {
		t.Errorf("load latency reported as %v, want at least %v", got, delay)
	}
	if _, ok := met.took[OpSave]; !ok {
		t.Error("the save was not reported")
	}
}

func TestUnmodifiedSessionSlidesFromItsLoadTime(t *testing.T) {
	f := newFixture(t, func(c *Config) {
		c.IdleTimeout = time.Hour
		c.TouchInterval = 10 * time.Minute
		c.AbsoluteTimeout = -1
	})
	res := f.request("", func(s *Session) { must(t, s.Put("n", 1)) })
	f.clk.advance(20 * time.Minute)
	loadedAt := f.clk.now()
	s := f.m.Open(context.Background(), res.ID)
	if _, err := Get[int](s, "n"); err != nil {
		t.Fatal(err)
	}
	f.clk.advance(5 * time.Minute) // a slow handler
	got, err := f.m.Commit(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	if got.Cookie != CookieSet || !got.ExpiresAt.Equal(loadedAt.Add(time.Hour)) {
		t.Fatalf("commit = %+v, want a touch to %v (an hour after the load)", got, loadedAt.Add(time.Hour))
	}
	if n := f.st.count("touch"); n != 1 {
		t.Fatalf("%d touches, want 1", n)
	}
}
