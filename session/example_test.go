package session_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/sessionkit/sessionkit/codecs/jsoncodec"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/stores/memstore"
)

// newManager is the setup of every example: a Manager on an in-process store.
func newManager() *session.Manager {
	m, err := session.New(session.Config{Store: memstore.New(), Codec: jsoncodec.New()})
	if err != nil {
		log.Fatal(err)
	}
	return m
}

// A request's session outside HTTP, as the middleware drives it: Open with
// the ID from the cookie (none for a first visit), read and write values,
// Commit, and send the ID back as the CommitResult says.
func Example() {
	ctx := context.Background()
	m := newManager()
	defer m.Close()

	// First request: no cookie yet.
	s := m.Open(ctx, "")
	if err := s.Put("cart", []string{"apple"}); err != nil {
		log.Fatal(err)
	}
	res, err := m.Commit(ctx, s)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("set cookie:", res.Cookie == session.CookieSet)

	// Next request: the browser sent the ID back.
	s = m.Open(ctx, res.ID)
	cart, err := session.Get[[]string](s, "cart")
	if err != nil {
		log.Fatal(err)
	}
	res, err = m.Commit(ctx, s)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("cart:", cart, "cookie unchanged:", res.Cookie == session.CookieKeep)
	// Output:
	// set cookie: true
	// cart: [apple] cookie unchanged: true
}

// GetOr gives a default for a missing key; Get reports it as ErrNotFound.
func ExampleGetOr() {
	ctx := context.Background()
	m := newManager()
	defer m.Close()
	s := m.Open(ctx, "")

	n, _ := session.GetOr(s, "visits", 0)
	_, err := session.Get[int](s, "visits")
	fmt.Println(n, errors.Is(err, session.ErrNotFound))
	// Output: 0 true
}

// Flashes are one-time messages: read once, then gone. They are stored as
// connect-flash stores them, so a Node app and a Go service share them.
func ExampleAddFlash() {
	ctx := context.Background()
	m := newManager()
	defer m.Close()

	s := m.Open(ctx, "")
	_ = session.AddFlash(s, "info", "Saved.")
	res, _ := m.Commit(ctx, s)

	s = m.Open(ctx, res.ID)
	first, _ := session.Flashes(s, "info")
	again, _ := session.Flashes(s, "info")
	fmt.Println(first, len(again))
	// Output: [Saved.] 0
}

// Renew on login: the session moves to a new ID with its data, and the old
// ID no longer opens it.
func ExampleSession_Renew() {
	ctx := context.Background()
	m := newManager()
	defer m.Close()

	s := m.Open(ctx, "")
	_ = s.Put("theme", "dark")
	before, _ := m.Commit(ctx, s)

	s = m.Open(ctx, before.ID)
	_ = s.Renew()
	_ = s.SetUser("ana")
	after, _ := m.Commit(ctx, s)

	old := m.Open(ctx, before.ID)
	oldIsNew, _ := old.IsNew()
	s = m.Open(ctx, after.ID)
	theme, _ := session.Get[string](s, "theme")
	user, _ := s.User()
	fmt.Println(after.ID != before.ID, oldIsNew, theme, user)
	// Output: true true dark ana
}

// Log out everywhere: with a store that keeps a user index, RevokeUser ends
// every session of a user.
func ExampleManager_RevokeUser() {
	ctx := context.Background()
	m := newManager()
	defer m.Close()

	var ids []string
	for range 2 { // a laptop and a phone
		s := m.Open(ctx, "")
		_ = s.SetUser("ana")
		res, _ := m.Commit(ctx, s)
		ids = append(ids, res.ID)
	}
	n, err := m.RevokeUser(ctx, "ana")
	if err != nil {
		log.Fatal(err)
	}
	s := m.Open(ctx, ids[1])
	user, _ := s.User()
	fmt.Printf("revoked %d; phone signed in as %q\n", n, user)
	// Output: revoked 2; phone signed in as ""
}
