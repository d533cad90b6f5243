package pgstore

import (
	"context"
	"testing"
	"time"

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
		JSONOnly:          true,
		UserKey:           "user_id",
		ExpiryGranularity: time.Second,
	})
}
