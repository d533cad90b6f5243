package interop

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/codecs/jsoncodec"
	"github.com/sessionkit/sessionkit/session"
)

// Node writes whole documents (express-session saves the session it loaded,
// last writer wins); Go saves only over the record it loaded and merges per
// key. So while the Express app adds keys a0, a1, … to a session and the Go
// service adds b0, b1, … to the same session at the same time, every key
// Node added must survive: a Go commit that loaded before one of Node's
// writes is refused, reloaded and re-applied, never written over it. (Node
// may still overwrite Go's keys, being unconditional; that is express-
// session's behaviour and is not checked.)

const (
	nodeWrites = 60 // sequential Node requests, each adding one key
	goWriters  = 4  // Go goroutines, each adding keys until Node is done
)

func TestPostgresConcurrentKeysWithNode(t *testing.T) {
	e := newPGEnv(t, "")
	node := e.node(t, time.Hour, []string{secretNew}, nil).wait().URL
	concurrentKeys(t, e.store, node, func(t *testing.T, id string) string { return first(e.mustRow(t, id)) })
}

func TestRedisConcurrentKeysWithNode(t *testing.T) {
	e := newRedisEnv(t)
	node := e.node(t, time.Hour, secretNew).wait().URL
	concurrentKeys(t, e.store, node, func(t *testing.T, id string) string { return first(e.mustValue(t, id)) })
}

func concurrentKeys(t *testing.T, store session.Store, node string, stored func(*testing.T, string) string) {
	if _, ok := store.(session.ConditionalStore); !ok {
		t.Fatalf("%T does not implement session.ConditionalStore", store)
	}
	m, err := session.New(session.Config{Store: store, Codec: jsoncodec.New(), Cookie: session.CookieOptions{Name: "connect.sid"}})
	if err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t)
	id := b.login(node, "erin")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	goKeys := make([]int, goWriters)
	for w := range goWriters {
		wg.Go(func() {
			for j := 0; ctx.Err() == nil; j++ {
				s := m.Open(context.Background(), id)
				if _, err := s.Keys(); err != nil { // load
					t.Errorf("go load: %v", err)
					return
				}
				// Hold the loaded copy while Node writes, as a slow handler
				// would.
				time.Sleep(2 * time.Millisecond)
				if err := s.Put(fmt.Sprintf("b%d_%d", w, j), j); err != nil {
					t.Errorf("go put: %v", err)
					return
				}
				if _, err := m.Commit(context.Background(), s); err != nil {
					t.Errorf("go commit %d of writer %d: %v", j, w, err)
					return
				}
				goKeys[w] = j + 1
			}
		})
	}
	nb := b.with()
	for i := range nodeWrites {
		nb.must(200, "POST", node+"/set", map[string]any{fmt.Sprint("a", i): i})
	}
	cancel()
	wg.Wait()

	doc := topLevel(t, stored(t, id))
	var lost []string
	for i := range nodeWrites {
		if _, ok := doc[fmt.Sprint("a", i)]; !ok {
			lost = append(lost, fmt.Sprint("a", i))
		}
	}
	total := 0
	for _, n := range goKeys {
		total += n
	}
	t.Logf("%d Node writes, %d Go commits interleaved", nodeWrites, total)
	if total == 0 {
		t.Fatal("no Go commit ran while Node wrote; the test checked nothing")
	}
	if len(lost) > 0 {
		t.Fatalf("Go overwrote %d of the %d keys Node added: %v", len(lost), nodeWrites, lost)
	}
}
