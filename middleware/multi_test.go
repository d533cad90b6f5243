package middleware

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sessionkit/sessionkit/session"
)

// TestTwoSessionsInOneRequest nests two middlewares with different cookie
// names over different stores, as a long-lived preferences session and a
// short auth session would be, and uses both in one handler.
func TestTwoSessionsInOneRequest(t *testing.T) {
	open := backends()
	prefs := newOn(t, open["boltstore"](t), "prefs", Config{})
	auth := newOn(t, open["memstore"](t), "auth", Config{})
	var inner *session.Session
	h := prefs.Handler(auth.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, a := prefs.Get(r), auth.Get(r)
		if p == nil || a == nil || p == a {
			t.Fatalf("prefs %p, auth %p", p, a)
		}
		inner = Get(r)
		if r.URL.Path == "/set" {
			if err := p.Put("theme", "dark"); err != nil {
				t.Fatal(err)
			}
			if err := a.SetUser("alice"); err != nil {
				t.Fatal(err)
			}
		}
		theme, _ := session.GetOr(prefs.FromContext(r.Context()), "theme", "")
		user, _ := auth.FromContext(context.WithValue(r.Context(), "k", 1)).User()
		w.Write([]byte(theme + "/" + user))
	})))

	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("POST", "/set", nil))
	var cookies []string
	for _, sc := range setCookies(w) {
		pair, _, _ := strings.Cut(sc, ";")
		cookies = append(cookies, pair)
	}
	names := map[string]bool{}
	for _, c := range cookies {
		name, _, _ := strings.Cut(c, "=")
		names[name] = true
	}
	if len(cookies) != 2 || !names["auth"] || !names["prefs"] {
		t.Fatalf("Set-Cookie %q, want an auth and a prefs cookie", cookies)
	}

	// Both cookies back: both sessions are read, each from its own store.
	r := httptest.NewRequest("GET", "/read", nil)
	r.Header.Set("Cookie", strings.Join(cookies, "; "))
	w = httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Body.String() != "dark/alice" {
		t.Errorf("body %q, want dark/alice", w.Body.String())
	}
	if inner == nil {
		t.Fatal("package Get found no session")
	}
	if u, _ := inner.User(); u != "alice" {
		t.Errorf("package Get under two middlewares: user %q, want the innermost (auth) session's", u)
	}

	// Only the prefs cookie: the auth session is new, prefs still read.
	r = httptest.NewRequest("GET", "/read", nil)
	for _, c := range cookies {
		if strings.HasPrefix(c, "prefs=") {
			r.Header.Set("Cookie", c)
		}
	}
	w = httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Body.String() != "dark/" {
		t.Errorf("prefs cookie only: body %q, want dark/", w.Body.String())
	}
}

func TestAccessorsOutsideMiddleware(t *testing.T) {
	mw := newOn(t, backends()["memstore"](t), "session", Config{})
	other := newOn(t, backends()["memstore"](t), "other", Config{})
	r := httptest.NewRequest("GET", "/", nil)
	if Get(r) != nil || FromContext(r.Context()) != nil || mw.Get(r) != nil || mw.FromContext(context.Background()) != nil {
		t.Error("a session for a request that passed through no middleware")
	}
	mw.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if other.Get(r) != nil {
			t.Error("another middleware's accessor found this one's session")
		}
		if mw.Get(r) != Get(r) || FromContext(r.Context()) != Get(r) {
			t.Error("the accessors disagree on the only session")
		}
	})).ServeHTTP(httptest.NewRecorder(), r)
}

// TestBeginCommit drives the adapter API: Begin, the session through the
// request's context, Commit into a ResponseWriter, and a failed commit
// answered by the ErrorHandler.
func TestBeginCommit(t *testing.T) {
	f := newFixture(t, nil)
	r, p := f.mw.Begin(httptest.NewRequest("GET", "/", nil))
	if FromContext(r.Context()) != p.Session() || f.mw.Get(r) != p.Session() {
		t.Fatal("Begin's request does not lead to its session")
	}
	if err := p.Session().Put("k", 1); err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	if err := p.Commit(w); err != nil {
		t.Fatal(err)
	}
	if len(setCookies(w)) != 1 || w.Header().Get("Vary") != "Cookie" || w.Body.Len() != 0 {
		t.Errorf("Commit wrote headers %v, body %q", w.Header(), w.Body.String())
	}
	if err := p.Session().Put("k", 2); err == nil {
		t.Error("Put after Commit succeeded")
	}
	if err := p.Commit(httptest.NewRecorder()); err != nil {
		t.Errorf("second Commit: %v", err)
	}

	f.store.setFail(session.OpSave, context.DeadlineExceeded)
	_, p = f.mw.Begin(httptest.NewRequest("GET", "/", nil))
	p.Session().Put("k", 1)
	w = httptest.NewRecorder()
	w.Header().Set("Location", "/elsewhere")
	if err := p.Commit(w); err == nil {
		t.Fatal("Commit over a failing store returned nil")
	}
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Location") != "" || len(setCookies(w)) != 0 {
		t.Errorf("failed Commit: status %d, headers %v", w.Code, w.Header())
	}
}
