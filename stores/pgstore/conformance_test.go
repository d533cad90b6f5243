package pgstore

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sessionkit/sessionkit/conformance"
	"github.com/sessionkit/sessionkit/internal/pgtest"
	"github.com/sessionkit/sessionkit/session"
)

func TestConformance(t *testing.T) {
	pool := pgtest.Pool(t, nil)
	conformance.Run(t, conformance.Harness{
		New: func(t *testing.T) session.Store {
			s, err := New(t.Context(), pool, Options{
				Schema:        pgtest.Schema(t, pool),
				CreateTable:   true,
				PruneInterval: -1,
			})
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		},
		Reopen: func(t *testing.T, st session.Store) session.Store {
			old := st.(*Store)
			old.Close()
			s, err := New(context.Background(), pool, Options{Schema: old.opts.Schema, PruneInterval: -1})
			if err != nil {
				t.Fatalf("reopen: %v", err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		},
		Stall: func(t *testing.T, st session.Store) func() {
			return stall(t, pool, st.(*Store).names.table)
		},
		JSONOnly:          true,
		UserKey:           "user_id",
		ExpiryGranularity: time.Second,
	})
}

// stall makes every statement on table wait, as on a server that stopped
// answering, until the returned func is called: another connection holds
// an ACCESS EXCLUSIVE lock on it, which even a SELECT waits for.
func stall(t *testing.T, pool *pgxpool.Pool, table string) func() {
	t.Helper()
	ctx := context.WithoutCancel(t.Context())
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatalf("stall: %v", err)
	}
	if _, err := tx.Exec(ctx, `LOCK TABLE `+table+` IN ACCESS EXCLUSIVE MODE`); err != nil {
		_ = tx.Rollback(ctx)
		t.Fatalf("stall: %v", err)
	}
	return func() {
		if err := tx.Rollback(ctx); err != nil {
			t.Errorf("ending the stall: %v", err)
		}
	}
}
