package session_test

import (
	"context"
	"fmt"
	"sync"

	"github.com/sessionkit/sessionkit/codecs/jsoncodec"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/stores/memstore"
)

// Update counts page views without losing any when requests of one session
// run at once: each increment that loses a race is run again on the fresh
// value at commit.
func ExampleUpdate() {
	store := memstore.New()
	defer store.Close()
	m, _ := session.New(session.Config{Store: store, Codec: jsoncodec.New()})
	ctx := context.Background()

	s := m.Open(ctx, "")
	_ = s.Put("user_id", "ana")
	res, _ := m.Commit(ctx, s)

	// Ten requests load the session, then all increment and commit.
	reqs := make([]*session.Session, 10)
	for i := range reqs {
		reqs[i] = m.Open(ctx, res.ID)
		_, _ = session.GetOr(reqs[i], "views", 0)
	}
	var wg sync.WaitGroup
	for _, r := range reqs {
		wg.Go(func() {
			_ = session.Update(r, "views", func(n int) int { return n + 1 })
			if _, err := m.Commit(ctx, r); err != nil {
				fmt.Println(err)
			}
		})
	}
	wg.Wait()

	s = m.Open(ctx, res.ID)
	views, _ := session.Get[int](s, "views")
	fmt.Println(views)
	// Output: 10
}
