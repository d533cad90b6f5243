package scsbridge_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/stores/memstore"
	"github.com/sessionkit/sessionkit/stores/scsbridge"
)

func newMemory(t *testing.T) *memstore.Store {
	t.Helper()
	st := memstore.New(memstore.WithPruneInterval(0))
	t.Cleanup(func() { st.Close() })
	return st
}

// counterApp is an scs application: "/" counts visits, "/logout" destroys
// the session.
func counterApp(sm *scs.SessionManager) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		n := sm.GetInt(r.Context(), "n") + 1
		sm.Put(r.Context(), "n", n)
		w.Write([]byte(strconv.Itoa(n)))
	})
	mux.HandleFunc("/logout", func(w http.ResponseWriter, r *http.Request) {
		if err := sm.Destroy(r.Context()); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	})
	return sm.LoadAndSave(mux)
}

// get serves one request with cookie c (nil: none) and returns the body and
// the session cookie set, if any.
func get(t *testing.T, h http.Handler, path string, c *http.Cookie) (string, *http.Cookie) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	if c != nil {
		req.AddCookie(c)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("GET %s: status %d: %s", path, rec.Code, rec.Body)
	}
	for _, set := range rec.Result().Cookies() {
		if set.Name == "session" {
			return rec.Body.String(), set
		}
	}
	return rec.Body.String(), nil
}

// TestSessionManager runs scs's own SessionManager, cookie and all, on the
// memory store.
func TestSessionManager(t *testing.T) {
	st := newMemory(t)
	sm := scs.New()
	sm.Store = scsbridge.New(st)
	sm.Lifetime = time.Hour
	app := counterApp(sm)

	body, c := get(t, app, "/", nil)
	if body != "1" || c == nil {
		t.Fatalf("first visit: body %q, cookie %v; want 1 and a cookie", body, c)
	}
	data, exp, found, err := st.Load(t.Context(), c.Value)
	if err != nil || !found || len(data) == 0 {
		t.Fatalf("the memory store holds no record under the cookie's token: found %v, %v", found, err)
	}
	if d := time.Until(exp); d < 59*time.Minute || d > time.Hour {
		t.Errorf("record expires in %v; want scs's lifetime of an hour", d)
	}

	body, _ = get(t, app, "/", c)
	if body != "2" {
		t.Fatalf("second visit with the cookie: body %q; want 2", body)
	}

	n := 0
	err = sm.Iterate(t.Context(), func(ctx context.Context) error {
		n++
		if got := sm.GetInt(ctx, "n"); got != 2 {
			t.Errorf("Iterate: n = %d; want 2", got)
		}
		return nil
	})
	if err != nil || n != 1 {
		t.Fatalf("Iterate visited %d sessions, %v; want 1", n, err)
	}

	get(t, app, "/logout", c)
	if _, _, found, _ := st.Load(t.Context(), c.Value); found {
		t.Fatal("the record is still in the memory store after Destroy")
	}
	if body, _ := get(t, app, "/", c); body != "1" {
		t.Fatalf("visit after logout with the old cookie: body %q; want a new session at 1", body)
	}
}

// plain hides every capability of a store but the four methods.
type plain struct{ session.Store }

func TestAllWithoutIterator(t *testing.T) {
	sm := scs.New()
	sm.Store = scsbridge.New(plain{newMemory(t)})
	err := sm.Iterate(t.Context(), func(context.Context) error { return nil })
	if !errors.Is(err, session.ErrUnsupported) {
		t.Fatalf("Iterate over a store without session.Iterator: %v; want an error wrapping session.ErrUnsupported", err)
	}
}

func TestAllEmpty(t *testing.T) {
	all, err := scsbridge.New(newMemory(t)).All()
	if err != nil || all == nil || len(all) != 0 {
		t.Fatalf("All on an empty store = %v, %v; want an empty, non-nil map", all, err)
	}
}

func TestContextPassed(t *testing.T) {
	s := scsbridge.New(newMemory(t))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, _, err := s.FindCtx(ctx, "a"); !errors.Is(err, context.Canceled) {
		t.Errorf("FindCtx with a cancelled context: %v; want context.Canceled", err)
	}
	if err := s.CommitCtx(ctx, "a", []byte("x"), time.Now().Add(time.Hour)); !errors.Is(err, context.Canceled) {
		t.Errorf("CommitCtx with a cancelled context: %v; want context.Canceled", err)
	}
	if _, err := s.AllCtx(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("AllCtx with a cancelled context: %v; want context.Canceled", err)
	}
}
