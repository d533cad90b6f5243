package pgstore

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sessionkit/sessionkit/internal/pgtest"
)

// env is one test's pool and fresh schema.
type env struct {
	pool   *pgxpool.Pool
	schema string
}

func newEnv(t testing.TB) env {
	t.Helper()
	pool := pgtest.Pool(t, nil)
	return env{pool: pool, schema: pgtest.Schema(t, pool)}
}

// store opens a Store in the env's schema with the table created and no
// background pruning, closed when the test ends.
func (e env) store(t testing.TB, opts Options) *Store {
	t.Helper()
	if opts.Schema == "" {
		opts.Schema = e.schema
	}
	opts.CreateTable = true
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.PruneInterval == 0 {
		opts.PruneInterval = -1
	}
	s, err := New(context.Background(), e.pool, opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// exec runs raw SQL in the test, failing it on error.
func (e env) exec(t testing.TB, sql string, args ...any) {
	t.Helper()
	if _, err := e.pool.Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func hour() time.Time { return time.Now().Add(time.Hour) }
