package main

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/codecs/jsoncodec"
	"github.com/sessionkit/sessionkit/session"

	"github.com/sessionkit/sessionkit/internal/e2e"
	"github.com/sessionkit/sessionkit/internal/redistest"
	"github.com/sessionkit/sessionkit/stores/redisstore"
)

// TestForeignKeysOnSharedRedis puts a hash under the session prefix, as
// another application on a shared Redis may: revoke --scan and migrate read
// past it and say how many such keys they skipped.
func TestForeignKeysOnSharedRedis(t *testing.T) {
	raw := e2e.RedisURL(t)
	ctx := context.Background()
	st := openStore(t, raw)
	prefix := st.(*redisstore.Store).Prefix()
	if err := st.Save(ctx, "node-made", []byte(`{"cookie":{"originalMaxAge":3600000,"expires":"2030-01-01T00:00:00.000Z","httpOnly":true,"path":"/"},"user_id":"alice"}`), time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	closeStore(t, st)
	if err := redistest.Client(t).HSet(ctx, prefix+"queue-stats", "jobs", 3).Err(); err != nil {
		t.Fatal(err)
	}
	want(t, 1, []string{"1 live sessions", "warning: 1 keys under the prefix hold another type"}, "check", raw)
	want(t, exitOK, []string{"1 live sessions of the user among 1 read", "skipped 1 key of another type"},
		"revoke", "--dry-run", "--scan", "--user", "alice", raw)
	want(t, exitOK, []string{"migrating 1 sessions", "copied 1,", "skipped 1 key of another type", "verified 1 of 1"},
		"migrate", "--from", raw, "--to", e2e.BboltURL(t))
}

// TestRevokeWithoutUserIndex revokes on a Redis store whose user index is
// off (user_index=false): revoke reads every session instead.
func TestRevokeWithoutUserIndex(t *testing.T) {
	raw := setParam(e2e.RedisURL(t), "user_index", "false")
	ctx := context.Background()
	st := openStore(t, raw)
	m, err := session.New(session.Config{Store: st, Codec: jsoncodec.New()})
	if err != nil {
		t.Fatal(err)
	}
	s := m.Open(ctx, "")
	if err := s.SetUser("alice"); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Commit(ctx, s); err != nil {
		t.Fatal(err)
	}
	if _, err := m.RevokeUser(ctx, "alice"); !errors.Is(err, session.ErrUnsupported) {
		t.Errorf("RevokeUser without a user index: %v, want ErrUnsupported", err)
	}
	closeStore(t, st)
	want(t, exitOK, []string{"revoked 1 sessions of the user among 1 read"}, "revoke", "--user", "alice", raw)
}
