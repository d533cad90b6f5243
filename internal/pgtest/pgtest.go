// Package pgtest gives tests a real PostgreSQL server: a pool, a fresh schema
// that is dropped when the test ends, and a proxy that can cut the connection
// to simulate an outage.
//
// The server is found through SESSIONKIT_POSTGRES_URL (default
// postgres://postgres@127.0.0.1:5432/test?sslmode=disable). When it cannot be
// reached the test is skipped with a hint, unless the CI environment variable
// is "true", in which case it fails: a silent skip in CI is a defect.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// DefaultURL is the server used when SESSIONKIT_POSTGRES_URL is unset.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// URL returns the server URL the tests use.
func URL() string {
	if u := os.Getenv("SESSIONKIT_POSTGRES_URL"); u != "" {
		return u
	}
	return DefaultURL
}

// Unavailable fails the test under CI and skips it otherwise, with a one-line
// hint on how to run it.
func Unavailable(tb testing.TB, err error) {
	tb.Helper()
	if os.Getenv("CI") == "true" {
		tb.Fatalf("PostgreSQL unreachable in CI: %v", err)
	}
	tb.Skipf("PostgreSQL unreachable (%v); start it or set SESSIONKIT_POSTGRES_URL to run this test", err)
}

// Config parses URL into a pool config, skipping or failing the test when
// the URL is invalid.
func Config(tb testing.TB) *pgxpool.Config {
	tb.Helper()
	cfg, err := pgxpool.ParseConfig(URL())
	if err != nil {
		tb.Fatalf("SESSIONKIT_POSTGRES_URL: %v", err)
	}
	return cfg
}

// Pool returns a pool on the test server, closed when the test ends. A
// non-nil configure may change the config first (RuntimeParams, the dial
// address, the pool size).
func Pool(tb testing.TB, configure func(*pgxpool.Config)) *pgxpool.Pool {
	tb.Helper()
	cfg := Config(tb)
	if configure != nil {
		configure(cfg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		Unavailable(tb, err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		Unavailable(tb, err)
	}
	tb.Cleanup(pool.Close)
	return pool
}

// Schema creates a schema with a random name and drops it, with everything
// in it, when the test ends. It returns the unquoted name.
func Schema(tb testing.TB, pool *pgxpool.Pool) string {
	tb.Helper()
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		tb.Fatal(err)
	}
	name := "sk_test_" + hex.EncodeToString(b[:])
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := pool.Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{name}.Sanitize()); err != nil {
		tb.Fatalf("create schema: %v", err)
	}
	tb.Cleanup(func() {
		// The pool may be closed by the time cleanups run (it was
		// registered earlier, so it closes later; but be safe), so use
		// a fresh connection.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, URL())
		if err != nil {
			tb.Errorf("drop schema %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+pgx.Identifier{name}.Sanitize()+" CASCADE"); err != nil {
			tb.Errorf("drop schema %s: %v", name, err)
		}
	})
	return name
}
