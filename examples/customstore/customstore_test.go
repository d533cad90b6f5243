package customstore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/codecs/jsoncodec"
	"github.com/sessionkit/sessionkit/conformance"
	"github.com/sessionkit/sessionkit/examples/customstore"
	"github.com/sessionkit/sessionkit/session"
)

// TestConformance is all the testing a store needs to start with: a fresh
// store per case. A store on a server gives each case its own table, key
// prefix or file and removes it with t.Cleanup.
func TestConformance(t *testing.T) {
	conformance.Run(t, conformance.Harness{
		New: func(t *testing.T) session.Store { return customstore.New() },
	})
}

// TestConformanceOptOut shows how a store that documents that it does not
// keep one promise opts out of the cases that check it. Here the store sits
// on a backend that cannot move an expiry alone, so its Touch reads the
// record and writes it back: a Touch racing a Save may undo it, and one
// racing a Delete may revive the record. Harness.Skip names the cases (as
// their subtests are named) and gives the reason, which the skip prints:
//
//	--- SKIP: TestConformanceOptOut/concurrency/touch-vs-save
//	    opted out by Harness.Skip["concurrency/touch-vs-save"]: Touch reads then writes; …
//
// A key that names no case fails the run, so a typo cannot silently keep a
// case running. A capability the store lacks needs no entry: its cases skip
// themselves.
func TestConformanceOptOut(t *testing.T) {
	const why = "Touch reads then writes, as the backend cannot move an expiry alone; documented on rewritingTouch"
	conformance.Run(t, conformance.Harness{
		New: func(t *testing.T) session.Store { return rewritingTouch{customstore.New()} },
		Skip: map[string]string{
			"concurrency/touch-vs-save":   why,
			"concurrency/touch-vs-delete": why,
		},
	})
}

// rewritingTouch is a store whose Touch is a Load and then a Save. It is not
// safe against a concurrent Save or Delete of the same ID.
type rewritingTouch struct{ *customstore.Store }

func (s rewritingTouch) Touch(ctx context.Context, id string, exp time.Time) error {
	data, old, found, err := s.Load(ctx, id)
	if err != nil || !found || !old.After(time.Now()) {
		return err
	}
	return s.Save(ctx, id, data, exp)
}

// Example puts the store under a session.Manager, as an application would.
func Example() {
	mgr, err := session.New(session.Config{Store: customstore.New(), Codec: jsoncodec.New()})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()

	s := mgr.Open(ctx, "") // a new session
	s.Put("visits", 1)
	res, _ := mgr.Commit(ctx, s)

	s = mgr.Open(ctx, res.ID) // the next request, with the cookie's ID
	n, _ := session.Get[int](s, "visits")
	fmt.Println("visits:", n)
	// Output: visits: 1
}
