package pgstore

import (
	"context"
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
// iteration runs raw pgx (this store's own SQL, no decoding: the floor) and
// then a request through the Manager on this store, alternating which goes
// first, so drift in the server's speed hits both alike. It reports each
// side's median and ours÷raw, serially and with 8 goroutines.
//
//	go test -run '^$' -bench Interleaved -benchtime 20000x ./stores/pgstore/
//
// Fewer iterations let the first, slower requests after seeding weigh on the
// medians.
func BenchmarkInterleaved(b *testing.B) {
	e := newBenchEnv(b)
	ctx := context.Background()
	m, err := session.New(session.Config{Store: e.ours, Codec: jsoncodec.New(), Logger: slog.New(slog.DiscardHandler)})
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
	rawLoad := func(i int) error {
		var (
			data []byte
			ms   int64
		)
		return e.pool.QueryRow(ctx, e.ours.q.load, ids[i%len(ids)], unixCeil(time.Now())).Scan(&data, &ms)
	}
	cases := []struct {
		name      string
		raw, ours func(i int) error
	}{
		{"read", rawLoad, func(i int) error {
			s := m.Open(ctx, ids[i%len(ids)])
			if v, err := session.Get[string](s, "k"); err != nil || v != "value" {
				return fmt.Errorf("read %q, %v", v, err)
			}
			_, err := m.Commit(ctx, s)
			return err
		}},
		{"modify", func(i int) error {
			if err := rawLoad(i); err != nil {
				return err
			}
			_, err := e.pool.Exec(ctx, e.ours.q.save, benchData, unixCeil(time.Now().Add(time.Hour)), ids[i%len(ids)])
			return err
		}, func(i int) error {
			s := m.Open(ctx, ids[i%len(ids)])
			if err := s.Put("n", i); err != nil {
				return err
			}
			_, err := m.Commit(ctx, s)
			return err
		}},
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
