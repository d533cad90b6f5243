package conformance

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/sessionkit/sessionkit/session"
)

// workers is how many goroutines the concurrency cases run at once.
const workers = 64

func (s *suite) concurrencyCases() []testCase {
	return []testCase{
		{"distinct-ids", s.distinctIDs},
		{"one-id", s.oneID},
		{"one-id-readers", s.oneIDReaders},
		{"mixed", s.mixedOps},
		{"touch-vs-save", s.touchVsSave},
		{"touch-vs-delete", s.touchVsDelete},
	}
}

// payloads returns n distinct payloads of size bytes.
func (s *suite) payloads(prefix string, n, size int) [][]byte {
	ps := make([][]byte, n)
	for i := range ps {
		ps[i] = s.sized(fmt.Sprint(prefix, i), size)
	}
	return ps
}

// oneOf reports whether got equals one of the candidates; a torn or mixed
// write equals none. Exact bytes are tried first, as decoding JSON to compare
// it is slow.
func (s *suite) oneOf(got []byte, candidates [][]byte) bool {
	return slices.ContainsFunc(candidates, func(c []byte) bool { return bytes.Equal(got, c) }) ||
		slices.ContainsFunc(candidates, func(c []byte) bool { return s.same(got, c) })
}

func (s *suite) distinctIDs(t *testing.T, st session.Store) {
	ctx, exp := t.Context(), later()
	ps := s.payloads("w", workers, 512)
	var wg sync.WaitGroup
	for i, p := range ps {
		wg.Go(func() {
			defer recovered(t)
			id := fmt.Sprint("w", i)
			if err := st.Save(ctx, id, p, exp); err != nil {
				t.Errorf("Save(%s) from one of %d goroutines: %v", showID(id), workers, err)
				return
			}
			if err := s.checkRecord(ctx, st, id, p, exp); err != nil {
				t.Errorf("after Save from one of %d goroutines: %v", workers, err)
			}
		})
	}
	wg.Wait()
	for i, p := range ps {
		s.wantRecord(t, st, fmt.Sprint("w", i), p, exp, "after all goroutines saved")
	}
	if c, ok := st.(session.Counter); ok {
		s.wantCount(t, c, workers, "after 64 goroutines saved one record each")
	}
}

func (s *suite) oneID(t *testing.T, st session.Store) {
	ctx, exp := t.Context(), later()
	ps := s.payloads("w", workers, 16<<10)
	var wg sync.WaitGroup
	for _, p := range ps {
		wg.Go(func() {
			defer recovered(t)
			if err := st.Save(ctx, "shared", p, exp); err != nil {
				t.Errorf("Save(\"shared\") from one of %d goroutines: %v", workers, err)
			}
		})
	}
	wg.Wait()
	got, gotExp, found := s.load(t, st, "shared")
	switch {
	case !found:
		t.Fatalf("Load(\"shared\") after %d concurrent Saves found nothing", workers)
	case !s.oneOf(got, ps):
		t.Fatalf("Load(\"shared\") after %d concurrent Saves = %s; want exactly one of the payloads written (%d bytes each)", workers, show(got), len(ps[0]))
	case !s.near(gotExp, exp):
		t.Fatalf("Load(\"shared\") after %d concurrent Saves reports expiry %s; want %s", workers, showExp(gotExp), showExp(exp))
	}
}

// oneIDReaders loads one ID while it is being rewritten: every load sees a
// whole payload or, before the first Save, nothing.
func (s *suite) oneIDReaders(t *testing.T, st session.Store) {
	const writers, readers, rounds = 8, 8, 16
	ctx, exp := t.Context(), later()
	ps := s.payloads("w", writers, 16<<10)
	var wg sync.WaitGroup
	for range readers {
		wg.Go(func() {
			defer recovered(t)
			for range rounds {
				got, _, found, err := st.Load(ctx, "shared")
				if err != nil {
					t.Errorf("Load(\"shared\") during concurrent Saves: %v", err)
					return
				}
				if found && !s.oneOf(got, ps) {
					t.Errorf("Load(\"shared\") during concurrent Saves = %s, which no Save wrote", show(got))
					return
				}
			}
		})
	}
	for _, p := range ps {
		wg.Go(func() {
			defer recovered(t)
			for range rounds {
				if err := st.Save(ctx, "shared", p, exp); err != nil {
					t.Errorf("Save(\"shared\") during concurrent Loads: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
}

// mixedOps runs Save, Touch, Delete and Load at random on a few shared IDs;
// every load must return a payload that was saved under that ID.
func (s *suite) mixedOps(t *testing.T, st session.Store) {
	const goroutines, ops, ids = 16, 50, 4
	ctx := t.Context()
	written := make([][][]byte, ids) // written[id][goroutine]
	for id := range written {
		written[id] = s.payloads(fmt.Sprint("id", id, "/g"), goroutines, 64)
	}
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			defer recovered(t)
			rng := rand.New(rand.NewPCG(uint64(g), 1))
			for range ops {
				n := rng.IntN(ids)
				id := fmt.Sprint("id", n)
				var err error
				switch rng.IntN(4) {
				case 0:
					err = st.Save(ctx, id, written[n][g], later())
				case 1:
					err = st.Touch(ctx, id, later())
				case 2:
					err = st.Delete(ctx, id)
				default:
					var got []byte
					var found bool
					got, _, found, err = st.Load(ctx, id)
					if err == nil && found && !s.oneOf(got, written[n]) {
						t.Errorf("Load(%q) during mixed operations = %s, which no Save wrote to it", id, show(got))
						return
					}
				}
				if err != nil {
					t.Errorf("during mixed operations on %q: %v", id, err)
					return
				}
			}
		})
	}
	wg.Wait()
}
