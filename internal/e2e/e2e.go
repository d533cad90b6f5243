// Package e2e gives end-to-end tests store URLs that each own a fresh
// namespace on a real backend: a PostgreSQL schema, a Redis key prefix, a
// bbolt file in a temporary directory. Everything is removed when the test
// ends. An unreachable server skips the test with a hint, or fails it when
// CI is "true" (see internal/pgtest and internal/redistest).
package e2e

import (
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/sessionkit/sessionkit/internal/pgtest"
	"github.com/sessionkit/sessionkit/internal/redistest"
)

// PostgresURL returns a store URL on a fresh schema of the test server,
// dropped with its tables when the test ends. The URL sets
// create_table=true and turns background pruning off, so that what a test
// sees is what it did.
func PostgresURL(t testing.TB) string {
	t.Helper()
	pool := pgtest.Pool(t, nil)
	schema := pgtest.Schema(t, pool)
	u, err := url.Parse(pgtest.URL())
	if err != nil {
		t.Fatalf("SESSIONKIT_POSTGRES_URL: %v", err)
	}
	q := u.Query()
	q.Set("schema", schema)
	q.Set("create_table", "true")
	q.Set("prune_interval", "off")
	u.RawQuery = q.Encode()
	return u.String()
}

// RedisURL returns a store URL on the test Redis whose session keys and
// user sets live under two fresh prefixes, deleted when the test ends.
func RedisURL(t testing.TB) string {
	t.Helper()
	c := redistest.Client(t)
	u, err := url.Parse(redisBase())
	if err != nil {
		t.Fatalf("SESSIONKIT_REDIS_URL: %v", err)
	}
	q := u.Query()
	q.Set("prefix", redistest.Prefix(t, c))
	q.Set("user_prefix", redistest.Prefix(t, c))
	u.RawQuery = q.Encode()
	return u.String()
}

// BboltURL returns a store URL on a new file in a temporary directory.
func BboltURL(t testing.TB) string {
	t.Helper()
	return "bbolt://" + filepath.ToSlash(filepath.Join(t.TempDir(), "sessions.db")) + "?prune_interval=off"
}

func redisBase() string {
	if u := os.Getenv("SESSIONKIT_REDIS_URL"); u != "" {
		return u
	}
	return redistest.DefaultURL
}
