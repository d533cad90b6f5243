package mysqlstore

import (
	"context"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkPruneUnderLoad measures the p99 latency of Saves by 8 writers
// before and during a prune of half the table: this store's batched Prune,
// and for comparison one DELETE of every expired row, on the table New
// creates (with the expires index). The table has SESSIONKIT_PRUNE_ROWS rows
// (default 200000), half of them expired; SESSIONKIT_PRUNE_BATCH sets
// Options.PruneBatch (default DefaultPruneBatch). Run it alone, once:
//
//	go test -run '^$' -bench PruneUnderLoad -benchtime 1x ./stores/mysqlstore/
func BenchmarkPruneUnderLoad(b *testing.B) {
	rows := 200_000
	if v, err := strconv.Atoi(os.Getenv("SESSIONKIT_PRUNE_ROWS")); err == nil && v > 0 {
		rows = v
	}
	for _, mode := range []string{"batched", "one-delete"} {
		b.Run(mode, func(b *testing.B) {
			e := newEnv(b)
			e.db.SetMaxIdleConns(16)
			batch, _ := strconv.Atoi(os.Getenv("SESSIONKIT_PRUNE_BATCH"))
			s := e.store(b, Options{PruneBatch: batch})
			ctx := context.Background()
			for range b.N {
				e.exec(b, "TRUNCATE "+s.Table())
				fill(b, e, s, "live-", rows/2, unixRound(time.Now().Add(time.Hour)))
				fill(b, e, s, "dead-", rows-rows/2, unixRound(time.Now().Add(-time.Hour)))

				var phase atomic.Int32 // 0 before, 1 during, 2 stop
				lat := make([][2][]time.Duration, 8)
				var wg sync.WaitGroup
				for w := range lat {
					wg.Go(func() {
						rng := rand.New(rand.NewPCG(uint64(w), 1))
						for {
							p := phase.Load()
							if p == 2 {
								return
							}
							id := "live-" + strconv.Itoa(rng.IntN(rows/2))
							t0 := time.Now()
							if err := s.Save(ctx, id, benchData, time.Now().Add(time.Hour)); err != nil {
								b.Error(err)
								return
							}
							lat[w][p] = append(lat[w][p], time.Since(t0))
						}
					})
				}
				time.Sleep(2 * time.Second)
				phase.Store(1)
				t0 := time.Now()
				var (
					n   int64
					err error
				)
				if mode == "batched" {
					n, err = s.Prune(ctx)
				} else {
					res, derr := e.db.ExecContext(ctx, "DELETE FROM "+s.Table()+" WHERE expires < ?", unixRound(time.Now()))
					err = derr
					if err == nil {
						n, err = res.RowsAffected()
					}
				}
				pruneTime := time.Since(t0)
				phase.Store(2)
				wg.Wait()
				if err != nil || n != int64(rows-rows/2) {
					b.Fatalf("prune removed %d, %v; want %d", n, err, rows-rows/2)
				}
				var before, during []time.Duration
				for _, l := range lat {
					before = append(before, l[0]...)
					during = append(during, l[1]...)
				}
				p99b, p99d := p99(before), p99(during)
				b.ReportMetric(float64(p99b.Microseconds()), "p99-before-µs")
				b.ReportMetric(float64(p99d.Microseconds()), "p99-during-µs")
				b.ReportMetric(float64(p99d)/float64(p99b), "p99-ratio")
				b.ReportMetric(float64(pruneTime.Milliseconds()), "prune-ms")
				b.ReportMetric(float64(len(during)), "saves-during")
			}
		})
	}
}

// fill inserts n rows named prefix0… with expires exp, 1000 to a statement.
func fill(b *testing.B, e env, s *Store, prefix string, n int, exp int64) {
	b.Helper()
	const per = 1000
	for start := 0; start < n; start += per {
		k := min(per, n-start)
		args := make([]any, 0, 3*k)
		for i := start; i < start+k; i++ {
			args = append(args, prefix+strconv.Itoa(i), exp, string(benchData))
		}
		e.exec(b, "INSERT INTO "+s.Table()+" (session_id, expires, data) VALUES "+strings.TrimSuffix(strings.Repeat("(?, ?, ?),", k), ","), args...)
	}
}

func p99(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	return ds[len(ds)*99/100]
}
