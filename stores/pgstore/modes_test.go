package pgstore

import (
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sessionkit/sessionkit/internal/pgtest"
)

// TestQueryExecModes runs the basic calls through pools in every pgx query
// exec mode, since a pool behind PgBouncer often uses the simple protocol
// or no statement cache.
func TestQueryExecModes(t *testing.T) {
	for name, mode := range map[string]pgx.QueryExecMode{
		"cache-statement": pgx.QueryExecModeCacheStatement,
		"cache-describe":  pgx.QueryExecModeCacheDescribe,
		"describe-exec":   pgx.QueryExecModeDescribeExec,
		"exec":            pgx.QueryExecModeExec,
		"simple-protocol": pgx.QueryExecModeSimpleProtocol,
	} {
		t.Run(name, func(t *testing.T) {
			pool := pgtest.Pool(t, func(c *pgxpool.Config) { c.ConnConfig.DefaultQueryExecMode = mode })
			e := env{pool: pool, schema: pgtest.Schema(t, pool)}
			s := e.store(t, Options{})
			ctx := t.Context()
			data := []byte(`{"cookie":{},"user_id":"ann","s":"it's \"quoted\" \\ \u00e9"}`)
			if err := s.Save(ctx, "m", data, hour()); err != nil {
				t.Fatalf("Save: %v", err)
			}
			got, exp, found, err := s.Load(ctx, "m")
			if err != nil || !found || string(got) != string(data) || exp.IsZero() {
				t.Fatalf("Load = %s, %v, %v, %v", got, exp, found, err)
			}
			if err := s.Touch(ctx, "m", hour()); err != nil {
				t.Fatalf("Touch: %v", err)
			}
			if ids, err := s.UserSessions(ctx, "ann"); err != nil || len(ids) != 1 {
				t.Fatalf("UserSessions = %v, %v", ids, err)
			}
			if _, err := s.Prune(ctx); err != nil {
				t.Fatalf("Prune: %v", err)
			}
			if n, err := s.Count(ctx); err != nil || n != 1 {
				t.Fatalf("Count = %d, %v", n, err)
			}
		})
	}
}
