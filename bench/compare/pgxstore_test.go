package compare

import (
	"testing"

	"github.com/alexedwards/scs/pgxstore"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sessionkit/sessionkit/conformance"
	"github.com/sessionkit/sessionkit/internal/pgtest"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/stores/scsbridge"
)

// TestPgxstore runs scs's PostgreSQL store, which takes no contexts,
// through Adapt and the whole conformance suite against the real server of
// SESSIONKIT_POSTGRES_URL. Each case gets a fresh schema holding pgxstore's
// table, dropped when it ends.
func TestPgxstore(t *testing.T) {
	admin := pgtest.Pool(t, nil)
	conformance.Run(t, conformance.Harness{
		New: func(t *testing.T) session.Store {
			schema := pgtest.Schema(t, admin)
			pool := pgtest.Pool(t, func(c *pgxpool.Config) {
				c.ConnConfig.RuntimeParams["search_path"] = schema
				c.MaxConns = 4
			})
			for _, sql := range []string{
				`CREATE TABLE sessions (token TEXT PRIMARY KEY, data BYTEA NOT NULL, expiry TIMESTAMPTZ NOT NULL)`,
				`CREATE INDEX sessions_expiry_idx ON sessions (expiry)`,
			} {
				if _, err := pool.Exec(t.Context(), sql); err != nil {
					t.Fatalf("creating pgxstore's table: %v", err)
				}
			}
			return scsbridge.Adapt(pgxstore.NewWithCleanupInterval(pool, 0))
		},
	})
}
