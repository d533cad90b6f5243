package mysqlstore

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/codecs/jsoncodec"
	"github.com/sessionkit/sessionkit/session"
)

// BenchmarkInterleaved is the ratio to trust on a shared machine: every
// iteration runs the floor (database/sql with this store's own prepared
// statements, no decoding) and then the same work through this store,
// alternating which goes first, so drift in the server's speed (and in its
// disk's, for writes) hits both alike. It reports each side's median and
// ours÷raw, serially and with 8 goroutines:
//
//   - read: a request through the Manager that reads one value; the floor
//     is the load statement.
//
//   - store-load: the store's Load alone against the same statement.
//
//   - modify: a request through the Manager that changes one value, which
//     on this store is a conditional save; the floor is the load, the hash
//     and the conditional UPDATE.
//
//   - load-replace: LoadVersion and Replace on the store; the floor is the
//     same two statements and the same hash. The two sides write different documents, so that
//     each write changes the row the other just wrote.
//
//   - rolling-read: a Manager with a 24h idle timeout (ours) against one
//     without (raw): the cost of sliding expiry on a read-heavy site.
//
//     scripts/bench-cores apart -- go test -run '^$' -bench Interleaved -benchtime 20000x ./stores/mysqlstore/
func BenchmarkInterleaved(b *testing.B) {
	e := newBenchEnv(b)
	ctx := context.Background()
	manager := func(idle time.Duration) (*session.Manager, []string) {
		m, err := session.New(session.Config{Store: e.ours, Codec: jsoncodec.New(), IdleTimeout: idle, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			b.Fatal(err)
		}
		ids := make([]string, benchIDs)
		for i := range ids {
			s := m.Open(ctx, "")
			if err := s.Put("k", "value"); err != nil {
				b.Fatal(err)
			}
			res, err := m.Commit(ctx, s)
			if err != nil {
				b.Fatal(err)
			}
			ids[i] = res.ID
		}
		return m, ids
	}
	m, ids := manager(-1)
	rolling, rollingIDs := manager(24 * time.Hour)
	rawLoad := func(i int) error {
		var (
			data []byte
			x    int64
		)
		return e.raw.load.QueryRowContext(ctx, ids[i%len(ids)], unixRound(time.Now())).Scan(&data, &x)
	}
	read := func(m *session.Manager, ids []string) func(int) error {
		return func(i int) error {
			s := m.Open(ctx, ids[i%len(ids)])
			if v, err := session.Get[string](s, "k"); err != nil || v != "value" {
				return fmt.Errorf("read %q, %v", v, err)
			}
			_, err := m.Commit(ctx, s)
			return err
		}
	}
	cases := []struct {
		name      string
		raw, ours func(i int) error
	}{
		{"read", rawLoad, read(m, ids)},
		{"store-load", rawLoad, func(i int) error {
			_, _, found, err := e.ours.Load(ctx, ids[i%len(ids)])
			if err == nil && !found {
				err = errors.New("not found")
			}
			return err
		}},
		// The floor runs what the Manager runs on this store, a
		// ConditionalStore: the load, the hash of what it read, and the
		// conditional UPDATE. It works on the seeded rows, so that it does
		// not write over the sessions the Manager reads.
		{"modify", func(i int) error {
			var (
				data []byte
				x    int64
			)
			id := benchID(i)
			if err := e.raw.load.QueryRowContext(ctx, id, unixRound(time.Now())).Scan(&data, &x); err != nil {
				return err
			}
			v := sha256.Sum256(data)
			_, err := e.raw.replace.ExecContext(ctx, benchDoc(i), unixRound(time.Now().Add(time.Hour)), id, unixRound(time.Now()), v[:])
			return err
		}, func(i int) error {
			s := m.Open(ctx, ids[i%len(ids)])
			if err := s.Put("n", i); err != nil {
				return err
			}
			_, err := m.Commit(ctx, s)
			return err
		}},
		{"load-replace", func(i int) error {
			var (
				data []byte
				x    int64
			)
			id := benchID(i)
			if err := e.raw.load.QueryRowContext(ctx, id, unixRound(time.Now())).Scan(&data, &x); err != nil {
				return err
			}
			v := sha256.Sum256(data)
			_, err := e.raw.replace.ExecContext(ctx, benchDoc(2*i), unixRound(time.Now().Add(time.Hour)), id, unixRound(time.Now()), v[:])
			return err
		}, func(i int) error {
			id := benchID(i)
			_, _, v, found, err := e.ours.LoadVersion(ctx, id)
			if err != nil || !found {
				return fmt.Errorf("LoadVersion: %v, %v", found, err)
			}
			if err := e.ours.Replace(ctx, id, []byte(benchDoc(2*i+1)), time.Now().Add(time.Hour), v); err != nil && !isConflict(err) {
				return err
			}
			return nil
		}},
		{"rolling-read", read(m, ids), read(rolling, rollingIDs)},
	}
	for _, c := range cases {
		for _, workers := range []int{1, 8} {
			b.Run(fmt.Sprintf("%s/workers%d", c.name, workers), func(b *testing.B) {
				raw, ours := interleave(b, workers, c.raw, c.ours)
				b.ReportMetric(float64(raw), "raw-p50-ns")
				b.ReportMetric(float64(ours), "ours-p50-ns")
				b.ReportMetric(float64(ours)/float64(raw), "ours-x-raw")
			})
		}
	}
}

// interleave runs b.N rounds of raw and ours over workers goroutines and
// returns the median latency of each.
func interleave(b *testing.B, workers int, raw, ours func(int) error) (time.Duration, time.Duration) {
	n := b.N
	var (
		mu         sync.Mutex
		rawS, ourS []time.Duration
		wg         sync.WaitGroup
	)
	b.ResetTimer()
	for w := range workers {
		wg.Go(func() {
			var r, o []time.Duration
			for i := w; i < n; i += workers {
				fns := [2]func(int) error{raw, ours}
				if i%2 == 1 {
					fns[0], fns[1] = ours, raw
				}
				for k, fn := range fns {
					t0 := time.Now()
					if err := fn(i); err != nil {
						b.Error(err)
						return
					}
					d := time.Since(t0)
					if (k == 0) == (i%2 == 0) {
						r = append(r, d)
					} else {
						o = append(o, d)
					}
				}
			}
			mu.Lock()
			rawS, ourS = append(rawS, r...), append(ourS, o...)
			mu.Unlock()
		})
	}
	wg.Wait()
	median := func(s []time.Duration) time.Duration {
		if len(s) == 0 {
			return 0
		}
		slices.Sort(s)
		return s[len(s)/2]
	}
	return median(rawS), median(ourS)
}
