package postgres

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
			return hideUserIndex{s}
		},
		Reopen: func(t *testing.T, st session.Store) session.Store {
			old := st.(hideUserIndex).Store
			old.Close()
			s, err := New(context.Background(), pool, Options{Schema: old.opts.Schema, PruneInterval: -1})
			if err != nil {
				t.Fatalf("reopen: %v", err)
			}
			t.Cleanup(func() { s.Close() })
			return hideUserIndex{s}
		},
		JSONOnly:          true,
		ExpiryGranularity: time.Second,
	})
}

// hideUserIndex presents the Store without session.UserIndex. The suite's
// UserIndex cases expect UserSessions to return what LinkUser linked, with
// payloads that carry no user; this store derives the user from the payload
// instead (the contract allows it: LinkUser is a no-op), so those cases
// cannot apply. TestUserSessions covers the derived index. Every other
// method is the Store's, promoted.
type hideUserIndex struct{ *Store }

// LinkUser and UserSessions shadow the Store's methods with other
// signatures, so that the wrapper does not satisfy session.UserIndex.
func (hideUserIndex) LinkUser()     {}
func (hideUserIndex) UserSessions() {}
