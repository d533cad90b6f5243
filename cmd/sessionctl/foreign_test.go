package main

import (
	"context"
	"testing"
	"time"

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
	want(t, exitOK, []string{"1 live sessions of the user among 1 read", "skipped 1 key of another type"},
		"revoke", "--dry-run", "--scan", "--user", "alice", raw)
	want(t, exitOK, []string{"migrating 1 sessions", "copied 1,", "skipped 1 key of another type", "verified 1 of 1"},
		"migrate", "--from", raw, "--to", e2e.BboltURL(t))
}
