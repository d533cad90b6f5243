package main

import (
	"context"
	"log/slog"
	"testing"

	"github.com/sessionkit/sessionkit/codecs/jsoncodec"
	"github.com/sessionkit/sessionkit/internal/e2e"
	"github.com/sessionkit/sessionkit/middleware"
	"github.com/sessionkit/sessionkit/session"
)

// TestHashedIDs runs sessionctl on a store whose Manager hashes IDs at rest:
// cookie verify finds a cookie's session with --id-hash-key (and only with
// it), count and revoke work on the stored keys as they are.
func TestHashedIDs(t *testing.T) {
	const key = "0123456789abcdef0123456789abcdef"
	raw := e2e.BboltURL(t)
	st := openStore(t, raw)
	m, err := session.New(session.Config{Store: st, Codec: jsoncodec.New(), IDHashKey: []byte(key), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, user := range []string{"ann", "ann", "bob"} {
		s := m.Open(context.Background(), "")
		if err := s.SetUser(user); err != nil {
			t.Fatal(err)
		}
		res, err := m.Commit(context.Background(), s)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, res.ID)
	}
	closeStore(t, st)

	signed := middleware.Sign(ids[0], "keyboard cat")
	want(t, 0, []string{"live in the store until"}, "cookie", "verify", "--secret", "keyboard cat", "--store", raw, "--id-hash-key", key, signed)
	want(t, 1, []string{"no live session with this ID"}, "cookie", "verify", "--secret", "keyboard cat", "--store", raw, signed)
	t.Setenv("SESSION_ID_HASH_KEY", key)
	want(t, 0, []string{"live in the store until"}, "cookie", "verify", "--secret", "keyboard cat", "--store", raw, signed)

	want(t, 0, nil, "revoke", "--user", "ann", raw)
	st = openStore(t, raw)
	defer closeStore(t, st)
	for i, id := range ids {
		_, _, found, err := st.Load(context.Background(), session.HashID([]byte(key), id))
		if err != nil || found != (i == 2) {
			t.Errorf("session %d after revoking ann: found %v, %v; want only bob's", i, found, err)
		}
	}
}
