package mysqlstore

import (
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/sessionkit/sessionkit/codecs/jsoncodec"
	"github.com/sessionkit/sessionkit/session"
)

func newManager(t *testing.T, s *Store) *session.Manager {
	t.Helper()
	m, err := session.New(session.Config{Store: s, Codec: jsoncodec.New(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// nodeRow inserts a row the way express-mysql-session writes it.
func nodeRow(t *testing.T, e env, s *Store, id, data string) {
	t.Helper()
	e.exec(t, "INSERT INTO "+s.Table()+" (session_id, expires, data) VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE expires = VALUES(expires), data = VALUES(data)",
		id, unixRound(hour()), data)
}

func TestManagerRevokeUserFindsNodeSessions(t *testing.T) {
	e := newEnv(t)
	s := e.store(t, Options{})
	m := newManager(t, s)
	ctx := t.Context()
	login := func(user string) string {
		ss := m.Open(ctx, "")
		if err := ss.SetUser(user); err != nil {
			t.Fatal(err)
		}
		res, err := m.Commit(ctx, ss)
		if err != nil {
			t.Fatal(err)
		}
		return res.ID
	}
	login("ann")
	login("ann")
	bob := login("bob")
	nodeRow(t, e, s, "node-ann", `{"cookie":{"originalMaxAge":3600000,"expires":"2030-01-01T00:00:00.000Z","httpOnly":true,"path":"/"},"user_id":"ann"}`)

	infos, err := m.UserSessions(ctx, "ann")
	if err != nil || len(infos) != 3 {
		t.Fatalf("UserSessions(ann) = %v, %v; want the 2 Go sessions and the Node one", infos, err)
	}
	n, err := m.RevokeUser(ctx, "ann")
	if err != nil || n != 3 {
		t.Fatalf("RevokeUser(ann) = %d, %v; want 3", n, err)
	}
	if _, _, found, _ := s.Load(ctx, "node-ann"); found {
		t.Error("the Node session survived RevokeUser")
	}
	if _, _, found, _ := s.Load(ctx, bob); !found {
		t.Error("bob's session was revoked too")
	}
}

func TestManagerKeepsNodeFieldsAndSurvivesCorruptRows(t *testing.T) {
	e := newEnv(t)
	s := e.store(t, Options{})
	m := newManager(t, s)
	ctx := t.Context()

	nodeRow(t, e, s, "node", `{"cookie":{"originalMaxAge":3600000,"expires":"2030-01-01T00:00:00.000Z","httpOnly":true,"path":"/"},"passport":{"user":7},"flash":{"info":["hi"]},"views":3}`)
	ss := m.Open(ctx, "node")
	if v, err := session.Get[float64](ss, "views"); err != nil || v != 3 {
		t.Fatalf("views = %v, %v", v, err)
	}
	if err := ss.Put("views", 4); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Commit(ctx, ss); err != nil {
		t.Fatal(err)
	}
	data, _, found, err := s.Load(ctx, "node")
	if err != nil || !found {
		t.Fatalf("Load: %v %v", found, err)
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	if string(doc["passport"]) != `{"user":7}` || string(doc["flash"]) != `{"info":["hi"]}` || string(doc["views"]) != "4" || doc["cookie"] == nil {
		t.Errorf("after a Go save the row is %s", data)
	}

	// Rows the codec cannot read are a new, empty session; nothing
	// crashes and an untouched one is not written over.
	for id, doc := range map[string]string{
		"array":    `[1,2]`,
		"string":   `"x"`,
		"null":     `null`,
		"no-ck":    `{"views":1}`,
		"null-ck":  `{"cookie":null}`,
		"bad-ck":   `{"cookie":"x","views":"y"}`,
		"not-json": `{"cookie":`,
		"empty":    ``,
	} {
		nodeRow(t, e, s, id, doc)
		ss := m.Open(ctx, id)
		if _, err := session.Get[string](ss, "missing"); err != nil && !errors.Is(err, session.ErrNotFound) {
			t.Errorf("%s: Get: %v", id, err)
		}
		if _, err := m.Commit(ctx, ss); err != nil {
			t.Errorf("%s: Commit: %v", id, err)
		}
		var got string
		if err := e.db.QueryRow("SELECT data FROM "+s.Table()+" WHERE session_id = ?", id).Scan(&got); err != nil || got != doc {
			t.Errorf("%s: an unmodified session was rewritten: %q, %v", id, got, err)
		}
	}
}

// TestManagerUnstorableIDs opens sessions whose (validly signed) IDs hold
// NUL, invalid UTF-8 or a trailing space, on the table New creates and on
// express-mysql-session's: each is a new session, not a store failure.
func TestManagerUnstorableIDs(t *testing.T) {
	for _, node := range []bool{false, true} {
		t.Run(map[bool]string{false: "go-table", true: "node-table"}[node], func(t *testing.T) {
			e := newEnv(t)
			if node {
				e.exec(t, nodeSchema(e.table))
			}
			s := e.store(t, Options{})
			m := newManager(t, s)
			ctx := t.Context()
			for _, id := range []string{"a\x00b", "\xff\xfe", "ok\xc3", "trailing ", strings.Repeat("x", 300)} {
				ss := m.Open(ctx, id)
				if _, err := session.Get[string](ss, "user_id"); !errors.Is(err, session.ErrNotFound) {
					t.Errorf("%q: Get = %v; want not found", id, err)
				}
				if isNew, err := ss.IsNew(); err != nil || !isNew {
					t.Errorf("%q: IsNew = %v, %v; want a new session", id, isNew, err)
				}
				if err := ss.Put("n", 1); err != nil {
					t.Fatal(err)
				}
				res, err := m.Commit(ctx, ss)
				if err != nil || res.ID == id {
					t.Errorf("%q: Commit = %+v, %v; want a fresh ID", id, res, err)
				}
			}
		})
	}
}
