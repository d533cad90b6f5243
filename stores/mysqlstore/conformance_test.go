package mysqlstore

import (
	"context"
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
		JSONOnly:          true,
		UserKey:           "user_id",
		ExpiryGranularity: time.Second,
	})
}
