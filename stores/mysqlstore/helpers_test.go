package mysqlstore

import (
	"context"
	"database/sql"
	"log/slog"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/internal/mysqltest"
)

// env is one test's database handle and fresh table name.
type env struct {
	db    *sql.DB
	table string
}

func newEnv(t testing.TB) env {
	t.Helper()
	return env{db: mysqltest.DB(t, nil), table: mysqltest.Table(t)}
}

// store opens a Store on the env's table, creating it, with no background
// pruning, closed when the test ends.
func (e env) store(t testing.TB, opts Options) *Store {
	t.Helper()
	if opts.Table == "" {
		opts.Table = e.table
	}
	opts.CreateTable = true
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.PruneInterval == 0 {
		opts.PruneInterval = -1
	}
	s, err := New(context.Background(), e.db, opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// exec runs raw SQL in the test, failing it on error.
func (e env) exec(t testing.TB, query string, args ...any) sql.Result {
	t.Helper()
	res, err := e.db.ExecContext(context.Background(), query, args...)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return res
}

// nodeSchema is express-mysql-session 3's schema.sql for table name.
func nodeSchema(name string) string {
	return "CREATE TABLE IF NOT EXISTS " + quoteIdent(name) + ` (
  session_id varchar(128) COLLATE utf8mb4_bin NOT NULL,
  expires int(11) unsigned NOT NULL,
  data mediumtext COLLATE utf8mb4_bin,
  PRIMARY KEY (session_id)
) ENGINE=InnoDB`
}

func hour() time.Time { return time.Now().Add(time.Hour) }
