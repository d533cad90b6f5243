package session_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/stores/memstore"
)

// storedSecure reads the "secure" of id's record: "true", "false", or
// "none" when the record has no such field.
func storedSecure(t *testing.T, st session.Store, id string) string {
	t.Helper()
	data, _, found, err := st.Load(context.Background(), id)
	if err != nil || !found {
		t.Fatalf("Load(%s): found %v, %v", session.LogID(id), found, err)
	}
	var doc struct {
		Cookie struct {
			Secure *bool `json:"secure"`
		} `json:"cookie"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatalf("record %s: %v", data, err)
	}
	if doc.Cookie.Secure == nil {
		return "none"
	}
	return map[bool]string{true: "true", false: "false"}[*doc.Cookie.Secure]
}

// TestRequestSecure checks the "secure" a record stores: Cookie.Secure
// unless SetRequestSecure was called; then, as express-session does with
// secure: 'auto', the request's scheme for a record the request creates and
// the record's own value for a loaded one.
func TestRequestSecure(t *testing.T) {
	ctx := context.Background()
	// scheme is what SetRequestSecure is told: "" for no call.
	open := func(m *session.Manager, id, scheme string) *session.Session {
		s := m.Open(ctx, id)
		if scheme != "" {
			s.SetRequestSecure(scheme == "https")
		}
		return s
	}
	put := func(t *testing.T, m *session.Manager, s *session.Session, k string) string {
		t.Helper()
		if err := s.Put(k, 1); err != nil {
			t.Fatal(err)
		}
		commit(t, m, s)
		id, err := s.ID()
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	for _, kind := range []string{"conditional", "plain"} {
		t.Run(kind, func(t *testing.T) {
			setup := func(t *testing.T, secure bool) (*session.Manager, session.Store) {
				mem := memstore.New()
				t.Cleanup(func() { mem.Close() })
				var st session.Store = mem
				if kind == "plain" {
					st = plain{mem}
				}
				return newCondManager(t, st, session.Config{Cookie: session.CookieOptions{Secure: secure}}), mem
			}
			for _, tt := range []struct {
				name   string
				secure bool // Cookie.Secure
				scheme string
				want   string
			}{
				{"no call", false, "", "false"},
				{"no call, Cookie.Secure", true, "", "true"},
				{"https", false, "https", "true"},
				{"http", false, "http", "false"},
				{"Cookie.Secure wins over http", true, "http", "true"},
			} {
				t.Run("new/"+tt.name, func(t *testing.T) {
					m, mem := setup(t, tt.secure)
					id := put(t, m, open(m, "", tt.scheme), "k")
					if got := storedSecure(t, mem, id); got != tt.want {
						t.Fatalf("stored secure %s, want %s", got, tt.want)
					}
				})
			}
			t.Run("loaded keeps the record's", func(t *testing.T) {
				m, mem := setup(t, false)
				id := put(t, m, open(m, "", "https"), "a")
				if got := put(t, m, open(m, id, "http"), "b"); got != id {
					t.Fatal("the ID changed")
				}
				if got := storedSecure(t, mem, id); got != "true" {
					t.Fatalf("stored secure %s after a change over http, want the record's true", got)
				}
			})
			t.Run("loaded keeps none", func(t *testing.T) {
				m, mem := setup(t, false)
				// As a Node app whose cookie has no secure option writes it.
				const id = "node-written-session-id"
				node := `{"cookie":{"originalMaxAge":3600000,"expires":"2099-01-01T00:00:00.000Z","httpOnly":true,"path":"/"},"a":1}`
				if err := mem.Save(ctx, id, []byte(node), time.Now().Add(time.Hour)); err != nil {
					t.Fatal(err)
				}
				put(t, m, open(m, id, "https"), "b")
				if got := storedSecure(t, mem, id); got != "none" {
					t.Fatalf("stored secure %s, want none, as the record had", got)
				}
			})
			t.Run("no call on a loaded session", func(t *testing.T) {
				m, mem := setup(t, false)
				id := put(t, m, open(m, "", "https"), "a")
				put(t, m, open(m, id, ""), "b")
				if got := storedSecure(t, mem, id); got != "false" {
					t.Fatalf("stored secure %s, want Cookie.Secure's false", got)
				}
			})
			t.Run("renew decides again", func(t *testing.T) {
				m, mem := setup(t, false)
				id := put(t, m, open(m, "", "https"), "a")
				s := open(m, id, "http")
				if err := s.Renew(); err != nil {
					t.Fatal(err)
				}
				commit(t, m, s)
				nid, _ := s.ID()
				if nid == id {
					t.Fatal("Renew kept the ID")
				}
				if got := storedSecure(t, mem, nid); got != "false" {
					t.Fatalf("stored secure %s after a renewal over http, want false", got)
				}
			})
			t.Run("re-created after destroy", func(t *testing.T) {
				m, mem := setup(t, false)
				id := put(t, m, open(m, "", "http"), "a")
				s := open(m, id, "https")
				if err := s.Destroy(); err != nil {
					t.Fatal(err)
				}
				nid := put(t, m, s, "flash")
				if got := storedSecure(t, mem, nid); got != "true" {
					t.Fatalf("stored secure %s for the session re-created over https, want true", got)
				}
			})
		})
	}
	t.Run("conditional/merged after a conflict", func(t *testing.T) {
		mem := memstore.New()
		t.Cleanup(func() { mem.Close() })
		ev := &events{}
		m := newCondManager(t, mem, session.Config{Metrics: ev})
		id := put(t, m, open(m, "", "https"), "a")
		slow := open(m, id, "http")
		if _, err := slow.Has("a"); err != nil { // loads the record
			t.Fatal(err)
		}
		put(t, m, open(m, id, "https"), "b") // the record changes under slow
		put(t, m, slow, "c")
		if ev.get(session.EventConflict) == 0 {
			t.Fatal("no conflict: the test does not reach the merge")
		}
		if got := storedSecure(t, mem, id); got != "true" {
			t.Fatalf("stored secure %s after a merge over http, want the record's true", got)
		}
		s := open(m, id, "")
		for _, k := range []string{"a", "b", "c"} {
			if ok, err := s.Has(k); err != nil || !ok {
				t.Fatalf("Has(%q) = %v, %v after the merge", k, ok, err)
			}
		}
	})
}
