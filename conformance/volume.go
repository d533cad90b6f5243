package conformance

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/session"
)

const (
	// manyLive and manyDying are how many records the volume cases write:
	// enough that a store paging or batching by a few hundred, or by a
	// thousand, needs several pages or batches.
	manyLive  = 600
	manyDying = 2400
	// seeders is how many goroutines write the volume cases' records.
	seeders = 16
)

// horizons are the lifetimes of the volume cases' live records: from a
// minute, where a store that prunes or hides records a few minutes early
// shows, to a hundred days.
var horizons = []time.Duration{
	time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute,
	59 * time.Minute, 61 * time.Minute, 3 * time.Hour, 25 * time.Hour, 100 * 24 * time.Hour,
}

// spread returns n IDs named prefix0000…, each expiring at one of the
// horizons from now, in turn.
func spread(prefix string, n int) map[string]time.Time {
	now := time.Now()
	recs := make(map[string]time.Time, n)
	for i := range n {
		recs[fmt.Sprintf("%s%04d", prefix, i)] = now.Add(horizons[i%len(horizons)])
	}
	return recs
}

// fanOut calls fn for each id from several goroutines at once, stopping at
// the first failure, which it returns.
func fanOut(ids []string, fn func(id string) error) error {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
		next  = make(chan string)
	)
	for range seeders {
		wg.Go(func() {
			defer func() {
				if v := recover(); v != nil {
					mu.Lock()
					first = firstErr(first, fmt.Errorf("panicked: %v", v))
					mu.Unlock()
				}
			}()
			for id := range next {
				if err := fn(id); err != nil {
					mu.Lock()
					first = firstErr(first, err)
					mu.Unlock()
				}
			}
		})
	}
	for _, id := range ids {
		mu.Lock()
		failed := first != nil
		mu.Unlock()
		if failed {
			break
		}
		next <- id
	}
	close(next)
	wg.Wait()
	return first
}

func firstErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// seed saves data(id) under every id of recs, expiring as recs says.
func (s *suite) seed(t *testing.T, st session.Store, recs map[string]time.Time) {
	t.Helper()
	err := fanOut(slices.Sorted(maps.Keys(recs)), func(id string) error {
		if err := st.Save(t.Context(), id, s.data(id), recs[id]); err != nil {
			return fmt.Errorf("Save(%s, expiring %s) while writing %d records: %v", showID(id), showExp(recs[id]), len(recs), err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// seedDying saves n records that expire soon after the last of them is
// written, calling during (which writes other records) before it waits for
// them to expire. It returns their IDs. The lifetime is twice what writing
// the first hundred took, scaled to n, so a slow store waits longer rather
// than failing.
func (s *suite) seedDying(t *testing.T, st session.Store, prefix string, n int, during func()) []string {
	t.Helper()
	ids := slices.Sorted(maps.Keys(spread(prefix, n)))
	probe := min(100, n)
	start := time.Now()
	s.seed(t, st, untilMap(ids[:probe], later()))
	per := time.Since(start) / time.Duration(probe)
	ttl := 2*per*time.Duration(n) + 2*s.gran + 100*time.Millisecond
	w := window{deadline: time.Now().Add(ttl), gran: s.gran}
	// The probe's records were saved to live; they die with the others.
	s.seed(t, st, untilMap(ids, w.deadline))
	if !w.open() {
		t.Skipf("writing %d records took longer than the %v lifetime given them; the case is not checked", n, ttl)
	}
	if during != nil {
		during()
	}
	w.wait()
	return ids
}

func untilMap(ids []string, exp time.Time) map[string]time.Time {
	m := make(map[string]time.Time, len(ids))
	for _, id := range ids {
		m[id] = exp
	}
	return m
}

// wantAllLive fails unless every record of recs loads with data(id) and its
// expiry.
func (s *suite) wantAllLive(t *testing.T, st session.Store, recs map[string]time.Time, when string) {
	t.Helper()
	err := fanOut(slices.Sorted(maps.Keys(recs)), func(id string) error {
		return s.checkRecord(t.Context(), st, id, s.data(id), recs[id])
	})
	if err != nil {
		t.Fatalf("%s: %v", when, err)
	}
}

// pruneMany expires thousands of records beside live ones that expire from
// a minute to a hundred days out: one Prune call must remove every expired
// record (not one batch) and none of the live ones (not those expiring in
// the next minutes either).
func (s *suite) pruneMany(t *testing.T, st session.Store) {
	p := capability[session.Pruner](t, st)
	var live map[string]time.Time
	dying := s.seedDying(t, st, "dead", manyDying, func() {
		live = spread("live", manyLive)
		s.seed(t, st, live)
	})
	n := s.prune(t, p)
	switch want := int64(len(dying)); {
	case n < want:
		t.Fatalf("one Prune call after %d of %d records expired = %d; want %d (the contract: one Prune call removes every record that had expired when it began, in as many batches as it takes)",
			want, len(dying)+len(live), n, want)
	case n > want:
		t.Fatalf("one Prune call after %d of %d records expired = %d; want %d: it removed live records too (the others expire in 1 minute to 100 days; the contract: Prune removes only records whose expiry has passed)",
			want, len(dying)+len(live), n, want)
	}
	if c, ok := st.(session.Counter); ok {
		s.wantCount(t, c, int64(len(live)), fmt.Sprintf("after Prune removed %d expired records beside %d live ones expiring in 1 minute to 100 days", len(dying), len(live)))
	}
	s.wantAllLive(t, st, live, "after Prune, a record expiring in 1 minute to 100 days")
	if n := s.prune(t, p); n != 0 {
		t.Fatalf("a second Prune = %d; want 0: the first should have removed every expired record", n)
	}
}

// iterateMany iterates thousands of records: each live one must be yielded
// once with its data and expiry, and fn may keep Record.Data and call the
// store, here deleting some records as they come (as "sessionctl revoke
// --scan" does).
func (s *suite) iterateMany(t *testing.T, st session.Store) {
	it := capability[session.Iterator](t, st)
	live := spread("live", manyLive+manyDying)
	s.seed(t, st, live)
	s.save(t, st, "expired", s.data("expired"), s.past())

	seen := map[string][]session.Record{}
	err := it.Iterate(t.Context(), func(r session.Record) error {
		seen[r.ID] = append(seen[r.ID], r) // Data kept, not copied
		return nil
	})
	if err != nil {
		t.Fatalf("Iterate over %d live records: %v", len(live), err)
	}
	s.check(t, "every-record", func(t *testing.T) {
		var missing, extra []string
		for id := range live {
			if len(seen[id]) == 0 {
				missing = append(missing, id)
			}
		}
		for id := range seen {
			if _, ok := live[id]; !ok {
				extra = append(extra, id)
			}
		}
		if len(missing) > 0 {
			t.Errorf("Iterate over %d live records yielded %d distinct ones, missing %d, such as %s (a store that pages must fetch every page)",
				len(live), len(seen), len(missing), showIDs(firstSorted(missing, 5)))
		}
		if len(extra) > 0 {
			t.Errorf("Iterate yielded %d records that are not live, such as %s", len(extra), showIDs(firstSorted(extra, 5)))
		}
	})
	s.check(t, "no-repeats", func(t *testing.T) {
		var twice []string
		for id, rs := range seen {
			if len(rs) > 1 {
				twice = append(twice, id)
			}
		}
		if len(twice) > 0 {
			t.Errorf("Iterate over %d live records yielded %d of them more than once, such as %s (pages that overlap?); want each once",
				len(live), len(twice), showIDs(firstSorted(twice, 5)))
		}
	})
	s.check(t, "data-kept", func(t *testing.T) {
		bad := 0
		for id, rs := range seen {
			exp, ok := live[id]
			if !ok {
				continue
			}
			for _, r := range rs {
				if !s.same(r.Data, s.data(id)) || !s.near(r.ExpiresAt, exp) {
					if bad < 3 {
						t.Errorf("Iterate yielded %s with data %s expiring %s, as read after the iteration ended; want %s expiring %s (the contract: fn may keep Record.Data)",
							showID(id), show(r.Data), showExp(r.ExpiresAt), show(s.data(id)), showExp(exp))
					}
					bad++
				}
			}
		}
		if bad > 3 {
			t.Errorf("… and %d more records with wrong data or expiry", bad-3)
		}
	})
	s.check(t, "cancel-midway", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		calls := 0
		o := guard(func() error {
			return it.Iterate(ctx, func(session.Record) error {
				if calls++; calls == 10 {
					cancel()
				}
				return nil
			})
		})
		switch {
		case o.fault != "":
			t.Fatalf("Iterate whose context was cancelled after 10 of %d records %s", len(live), o.fault)
		case !errors.Is(o.err, context.Canceled):
			t.Errorf("Iterate whose context was cancelled after 10 of %d records returned %v after %d calls of fn; want an error wrapping context.Canceled (the contract: a method returns the context's error once it is done; a caller must not take a cut-short iteration for a whole one)",
				len(live), o.err, calls)
		}
	})
	s.check(t, "delete-some", func(t *testing.T) {
		// Every deleteEvery-th record is deleted as it comes: enough to
		// shift an offset by several records per page, few enough to stay
		// cheap on a store that syncs each write.
		const deleteEvery = 16
		got, deleted := map[string]bool{}, map[string]bool{}
		err := it.Iterate(t.Context(), func(r session.Record) error {
			got[r.ID] = true
			if len(got)%deleteEvery != 0 || deleted[r.ID] {
				return nil
			}
			deleted[r.ID] = true
			o := guard(func() error { return st.Delete(t.Context(), r.ID) })
			if o.fault != "" {
				return fmt.Errorf("Delete(%s), called from Iterate's fn, %s (does Iterate hold a lock while it calls fn? the contract: fn may call the store)", showID(r.ID), o.fault)
			}
			return o.err
		})
		if err != nil {
			t.Fatalf("Iterate whose fn deletes some of the records it is given: %v", err)
		}
		var missing []string
		for id := range live {
			if !got[id] {
				missing = append(missing, id)
			}
		}
		if len(missing) > 0 {
			t.Errorf("Iterate whose fn deletes every %dth record it is given yielded %d of %d live records, missing such as %s (paging by offset skips records when earlier ones are deleted; the contract: fn may call the store)",
				deleteEvery, len(got), len(live), showIDs(firstSorted(missing, 5)))
		}
		for id := range deleted {
			if _, _, found := s.load(t, st, id); found {
				t.Fatalf("Load(%s) after fn deleted it during Iterate found it; want not found", showID(id))
			}
		}
	})
}

func firstSorted(ids []string, n int) []string {
	slices.Sort(ids)
	return ids[:min(n, len(ids))]
}
