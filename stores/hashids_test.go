package stores_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/sessionkit/sessionkit/codecs/jsoncodec"
	"github.com/sessionkit/sessionkit/express"
	"github.com/sessionkit/sessionkit/internal/e2e"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/stores"
)

var hashKey = []byte("0123456789abcdef0123456789abcdef-test-key")

// TestHashedIDs runs a Manager with Config.IDHashKey on every store: the
// store holds each session under the hash of its ID and never the ID itself,
// and loading, renewing, listing and revoking a user's sessions all work.
func TestHashedIDs(t *testing.T) {
	for _, b := range []struct {
		name string
		url  func(testing.TB) string
	}{
		{"memory", func(testing.TB) string { return "memory://" }},
		{"bbolt", e2e.BboltURL},
		{"postgres", e2e.PostgresURL},
		{"redis", e2e.RedisURL},
		{"mysql", e2e.MySQLURL},
	} {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			st, err := stores.Open(ctx, b.url(t))
			if err != nil {
				t.Fatal(err)
			}
			defer st.(io.Closer).Close()
			m, err := session.New(session.Config{Store: st, Codec: jsoncodec.New(), IDHashKey: hashKey,
				Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				t.Fatal(err)
			}
			login := func(user string) string {
				s := m.Open(ctx, "")
				if err := s.SetUser(user); err != nil {
					t.Fatal(err)
				}
				res, err := m.Commit(ctx, s)
				if err != nil {
					t.Fatal(err)
				}
				return res.ID
			}
			ann := []string{login("ann"), login("ann"), login("ann")}
			bob := login("bob")
			for _, id := range append(ann, bob) {
				if _, _, found, err := st.Load(ctx, id); found || err != nil {
					t.Fatalf("the store holds a session under its ID (found %v, %v)", found, err)
				}
				if _, _, found, err := st.Load(ctx, session.HashID(hashKey, id)); !found || err != nil {
					t.Fatalf("the store holds no session under the ID's hash (%v)", err)
				}
			}
			if it, ok := st.(session.Iterator); ok {
				err := it.Iterate(ctx, func(r session.Record) error {
					for _, id := range append(ann, bob) {
						if r.ID == id || strings.Contains(string(r.Data), id) {
							t.Errorf("a stored record names a session ID")
						}
					}
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
			}

			// Renew the first of ann's sessions, then list and revoke.
			s := m.Open(ctx, ann[0])
			if u, err := s.User(); err != nil || u != "ann" {
				t.Fatalf("User() of a hashed session = %q, %v", u, err)
			}
			if err := s.Renew(); err != nil {
				t.Fatal(err)
			}
			res, err := m.Commit(ctx, s)
			if err != nil {
				t.Fatal(err)
			}
			if _, _, found, _ := st.Load(ctx, session.HashID(hashKey, ann[0])); found {
				t.Error("the renewed session's old record survived")
			}
			s = m.Open(ctx, res.ID)
			others, err := s.Others()
			if err != nil || len(others) != 3 {
				t.Fatalf("Others() = %v, %v; want ann's 3 sessions", others, err)
			}
			current := 0
			for _, in := range others {
				if in.Current {
					current++
				}
			}
			if current != 1 {
				t.Errorf("%d of Others() are marked current; want 1", current)
			}
			if n, err := s.RevokeOthers(); err != nil || n != 2 {
				t.Fatalf("RevokeOthers() = %d, %v; want 2", n, err)
			}
			if n, err := m.RevokeUser(ctx, "ann"); err != nil || n != 1 {
				t.Fatalf("RevokeUser(ann) = %d, %v; want 1", n, err)
			}
			if u, err := m.Open(ctx, bob).User(); err != nil || u != "bob" {
				t.Errorf("bob's session after ann was revoked: %q, %v", u, err)
			}

			// Another key finds nothing.
			other, err := session.New(session.Config{Store: st, Codec: jsoncodec.New(),
				IDHashKey: []byte(strings.Repeat("k", 32)), Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				t.Fatal(err)
			}
			if isNew, err := other.Open(ctx, bob).IsNew(); err != nil || !isNew {
				t.Errorf("a Manager with another key found bob's session (%v)", err)
			}
		})
	}
}

// TestHashedIDsRefused checks the settings hashed IDs cannot work with: a
// short key, and express-session's format, which a Node app reads by ID.
func TestHashedIDsRefused(t *testing.T) {
	st, err := stores.Open(context.Background(), "memory://")
	if err != nil {
		t.Fatal(err)
	}
	defer st.(io.Closer).Close()
	if _, err := session.New(session.Config{Store: st, Codec: jsoncodec.New(), IDHashKey: []byte("short")}); err == nil {
		t.Error("a 5-byte IDHashKey was accepted")
	}
	_, err = express.New(session.Config{Store: st, IDHashKey: hashKey}, strings.Repeat("s", 32))
	if err == nil || !strings.Contains(err.Error(), "Node") {
		t.Errorf("Express with IDHashKey = %v; want an error naming the Node app", err)
	}
}
