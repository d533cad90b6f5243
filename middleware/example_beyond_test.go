package middleware_test

import (
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/sessionkit/sessionkit/codecs/jsoncodec"
	"github.com/sessionkit/sessionkit/middleware"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/stores/memstore"
)

// A mobile app or API client that keeps no cookies sends the session as a
// Bearer token and gets new ones in X-Session-Token.
func ExampleConfig_tokenHeader() {
	store := memstore.New()
	defer store.Close()
	mgr, err := session.New(session.Config{Store: store, Codec: jsoncodec.New()})
	if err != nil {
		log.Fatal(err)
	}
	mw, err := middleware.New(middleware.Config{
		Manager:     mgr,
		Secrets:     []string{secret},
		TokenHeader: "Authorization", // "Authorization: Bearer <token>"
		HeaderOnly:  true,            // no cookie
	})
	if err != nil {
		log.Fatal(err)
	}
	h := mw.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := middleware.Get(r)
		if r.URL.Path == "/login" {
			s.Renew()
			s.SetUser("alice")
		}
		user, _ := s.User()
		fmt.Fprint(w, user)
	}))

	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("POST", "/login", nil))
	token := w.Header().Get("X-Session-Token")

	r := httptest.NewRequest("GET", "/me", nil)
	r.Header.Set("Authorization", "Bearer "+token)
	w = httptest.NewRecorder()
	h.ServeHTTP(w, r)
	fmt.Println(w.Body.String(), len(w.Result().Cookies()))
	// Output: alice 0
}

// Two sessions in one request: a long-lived preferences session and a
// short auth session, under different cookie names (and, in a real
// deployment, different stores).
func ExampleMiddleware_Get() {
	var stores []*memstore.Store
	defer func() {
		for _, s := range stores {
			s.Close()
		}
	}()
	newMW := func(name string, idle time.Duration) *middleware.Middleware {
		store := memstore.New() // a boltstore file for prefs, Redis for auth, …
		stores = append(stores, store)
		mgr, err := session.New(session.Config{Store: store, Codec: jsoncodec.New(),
			IdleTimeout: idle, Cookie: session.CookieOptions{Name: name}})
		if err != nil {
			log.Fatal(err)
		}
		mw, err := middleware.New(middleware.Config{Manager: mgr, Secrets: []string{secret}})
		if err != nil {
			log.Fatal(err)
		}
		return mw
	}
	prefs := newMW("prefs", 365*24*time.Hour)
	auth := newMW("auth", 30*time.Minute)

	h := prefs.Handler(auth.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		prefs.Get(r).Put("theme", "dark")
		auth.Get(r).SetUser("alice")
	})))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("POST", "/", nil))
	for _, c := range w.Result().Cookies() {
		fmt.Println(c.Name)
	}
	// Unordered output:
	// prefs
	// auth
}
