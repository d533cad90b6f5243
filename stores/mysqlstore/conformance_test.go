package mysqlstore

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/conformance"
	"github.com/sessionkit/sessionkit/internal/mysqltest"
	"github.com/sessionkit/sessionkit/session"
)

func TestConformance(t *testing.T) {
	db := mysqltest.DB(t, nil)
	db.SetMaxOpenConns(32)
	conformance.Run(t, conformance.Harness{
		New: func(t *testing.T) session.Store {
			s, err := New(t.Context(), db, Options{
				Table:         mysqltest.Table(t),
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
			s, err := New(context.Background(), db, Options{Table: old.opts.Table, PruneInterval: -1})
			if err != nil {
				t.Fatalf("reopen: %v", err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		},
		Stall: func(t *testing.T, st session.Store) func() {
			return stall(t, db, st.(*Store).Table())
		},
		JSONOnly:          true,
		UserKey:           "user_id",
		ExpiryGranularity: time.Second,
	})
}

// stall makes every statement on table wait, as on a server that stopped
// answering, until the returned func is called: another connection holds
// the table's write lock, which even a SELECT waits for.
func stall(t *testing.T, db *sql.DB, table string) func() {
	t.Helper()
	ctx := context.WithoutCancel(t.Context())
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatalf("stall: %v", err)
	}
	if _, err := conn.ExecContext(ctx, "LOCK TABLES "+table+" WRITE"); err != nil {
		conn.Close()
		t.Fatalf("stall: %v", err)
	}
	return func() {
		if _, err := conn.ExecContext(ctx, "UNLOCK TABLES"); err != nil {
			t.Errorf("ending the stall: %v", err)
		}
		conn.Close()
	}
}
