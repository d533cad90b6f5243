package customstore_test

import (
	"context"
	"fmt"
	"testing"

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
