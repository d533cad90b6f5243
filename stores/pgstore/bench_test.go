package pgstore

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sessionkit/sessionkit/codecs/jsoncodec"
	"github.com/sessionkit/sessionkit/internal/pgtest"
	"github.com/sessionkit/sessionkit/session"
)

// The benchmarks compare, in one process so that ratios hold on a noisy
// machine: raw pgx running exactly this store's SQL (the floor) and this
// store. Each runs serially and with 8 goroutines. The module bench/compare
// runs this store beside scs's pgxstore, so that this module does not
// require it. Run with:
//
//	go test -run '^$' -bench . -benchtime 2000x ./stores/pgstore/

const benchIDs = 512

var benchData = []byte(`{"cookie":{"originalMaxAge":86400000,"expires":"2030-01-01T00:00:00.000Z","httpOnly":true,"path":"/","sameSite":"lax"},"user_id":"u-1234","cart":{"items":[1,2,3],"total":4200},"flash":{}}`)

type benchEnv struct {
	pool *pgxpool.Pool
	ours *Store
}

// newBenchEnv makes a pool whose search_path is a fresh schema holding this
// store's table, and seeds benchIDs sessions.
func newBenchEnv(b *testing.B) benchEnv {
	b.Helper()
	admin := pgtest.Pool(b, nil)
	schema := pgtest.Schema(b, admin)
	pool := pgtest.Pool(b, func(c *pgxpool.Config) {
		c.ConnConfig.RuntimeParams["search_path"] = schema
		c.MaxConns = 16
	})
	ctx := context.Background()
	s, err := New(ctx, pool, Options{CreateTable: true, PruneInterval: -1, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	exp := time.Now().Add(time.Hour)
	for i := range benchIDs {
		if err := s.Save(ctx, benchID(i), benchData, exp); err != nil {
			b.Fatal(err)
		}
	}
	return benchEnv{pool: pool, ours: s}
}

func benchID(i int) string { return "bench-session-" + strconv.Itoa(i%benchIDs) }

// both runs fn serially and with 8 goroutines; fn gets a per-goroutine
// counter to pick IDs.
func both(b *testing.B, fn func(b *testing.B, i int)) {
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			fn(b, i)
		}
	})
	b.Run("parallel8", func(b *testing.B) {
		b.ReportAllocs()
		b.SetParallelism((8 + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
		var seq atomic.Int64
		b.RunParallel(func(pb *testing.PB) {
			i := int(seq.Add(1)) * 7919
			for pb.Next() {
				fn(b, i)
				i++
			}
		})
	})
}

func BenchmarkStore(b *testing.B) {
	e := newBenchEnv(b)
	ctx := context.Background()
	q := e.ours.q
	exp := func() time.Time { return time.Now().Add(time.Hour) }

	b.Run("load", func(b *testing.B) {
		b.Run("raw", func(b *testing.B) {
			both(b, func(b *testing.B, i int) {
				var (
					data []byte
					ms   int64
				)
				if err := e.pool.QueryRow(ctx, q.load, benchID(i), unixCeil(time.Now())).Scan(&data, &ms); err != nil {
					b.Fatal(err)
				}
			})
		})
		b.Run("ours", func(b *testing.B) {
			both(b, func(b *testing.B, i int) {
				if _, _, found, err := e.ours.Load(ctx, benchID(i)); err != nil || !found {
					b.Fatal(found, err)
				}
			})
		})
	})
	b.Run("save", func(b *testing.B) {
		b.Run("raw", func(b *testing.B) {
			both(b, func(b *testing.B, i int) {
				if _, err := e.pool.Exec(ctx, q.save, benchData, unixCeil(exp()), benchID(i)); err != nil {
					b.Fatal(err)
				}
			})
		})
		b.Run("ours", func(b *testing.B) {
			both(b, func(b *testing.B, i int) {
				if err := e.ours.Save(ctx, benchID(i), benchData, exp()); err != nil {
					b.Fatal(err)
				}
			})
		})
	})
	b.Run("touch", func(b *testing.B) {
		b.Run("raw", func(b *testing.B) {
			both(b, func(b *testing.B, i int) {
				if _, err := e.pool.Exec(ctx, q.touch, unixCeil(exp()), benchID(i), unixCeil(time.Now())); err != nil {
					b.Fatal(err)
				}
			})
		})
		b.Run("ours", func(b *testing.B) {
			both(b, func(b *testing.B, i int) {
				if err := e.ours.Touch(ctx, benchID(i), exp()); err != nil {
					b.Fatal(err)
				}
			})
		})
	})
}

// BenchmarkManager measures whole requests through the session Manager
// (JSON codec, this store), without HTTP, against raw pgx running the same
// statements with no decoding:
//   - read: load a session and read one value; no idle timeout.
//   - rolling-read: the same with a 24h idle timeout (the Manager touches
//     only when a tenth of the window has passed, so here never).
//   - modify: load, change one value, save.
//   - new-untouched: a request without a cookie whose handler never
//     touches the session.
func BenchmarkManager(b *testing.B) {
	e := newBenchEnv(b)
	ctx := context.Background()

	newOurs := func(b *testing.B, idle time.Duration) (*session.Manager, []string) {
		m, err := session.New(session.Config{
			Store: e.ours, Codec: jsoncodec.New(), IdleTimeout: idle,
			Logger: slog.New(slog.DiscardHandler),
		})
		if err != nil {
			b.Fatal(err)
		}
		ids := make([]string, 64)
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
	// rawLoad and the raw modify are the floor: the same statements
	// through pgx, with no decoding.
	rawLoad := func(b *testing.B, i int) {
		var (
			data []byte
			ms   int64
		)
		if err := e.pool.QueryRow(ctx, e.ours.q.load, benchID(i), unixCeil(time.Now())).Scan(&data, &ms); err != nil {
			b.Fatal(err)
		}
	}
	oursRead := func(m *session.Manager, ids []string) func(*testing.B, int) {
		return func(b *testing.B, i int) {
			s := m.Open(ctx, ids[i%len(ids)])
			if v, err := session.Get[string](s, "k"); err != nil || v != "value" {
				b.Fatal(v, err)
			}
			if _, err := m.Commit(ctx, s); err != nil {
				b.Fatal(err)
			}
		}
	}
	for _, c := range []struct {
		name string
		idle time.Duration
	}{{"read", 0}, {"rolling-read", 24 * time.Hour}} {
		b.Run(c.name, func(b *testing.B) {
			ourIdle := c.idle
			if ourIdle == 0 {
				ourIdle = -1
			}
			m, ids := newOurs(b, ourIdle)
			b.Run("raw", func(b *testing.B) { both(b, rawLoad) })
			b.Run("ours", func(b *testing.B) { both(b, oursRead(m, ids)) })
		})
	}
	b.Run("modify", func(b *testing.B) {
		m, ids := newOurs(b, -1)
		b.Run("raw", func(b *testing.B) {
			both(b, func(b *testing.B, i int) {
				rawLoad(b, i)
				if _, err := e.pool.Exec(ctx, e.ours.q.save, benchData, unixCeil(time.Now().Add(time.Hour)), benchID(i)); err != nil {
					b.Fatal(err)
				}
			})
		})
		b.Run("ours", func(b *testing.B) {
			both(b, func(b *testing.B, i int) {
				s := m.Open(ctx, ids[i%len(ids)])
				if err := s.Put("n", i); err != nil {
					b.Fatal(err)
				}
				if _, err := m.Commit(ctx, s); err != nil {
					b.Fatal(err)
				}
			})
		})
	})
	b.Run("new-untouched", func(b *testing.B) {
		m, _ := newOurs(b, -1)
		b.Run("ours", func(b *testing.B) {
			both(b, func(b *testing.B, i int) {
				s := m.Open(ctx, "")
				res, err := m.Commit(ctx, s)
				if err != nil || res.Cookie != session.CookieKeep {
					b.Fatal(res, err)
				}
			})
		})
	})
}

// BenchmarkPruneUnderLoad measures the p99 latency of Saves by 8 writers
// before and during a prune of half the table: this store's batched Prune,
// and for comparison one DELETE of every expired row. The table has
// SESSIONKIT_PRUNE_ROWS rows (default 200000; the figure is
// 1000000), half of them expired. Run it alone, once:
//
//	go test -run '^$' -bench PruneUnderLoad -benchtime 1x ./stores/pgstore/
func BenchmarkPruneUnderLoad(b *testing.B) {
	rows := 200_000
	if v, err := strconv.Atoi(os.Getenv("SESSIONKIT_PRUNE_ROWS")); err == nil && v > 0 {
		rows = v
	}
	for _, mode := range []string{"batched", "one-delete"} {
		b.Run(mode, func(b *testing.B) {
			e := newEnv(b)
			s := e.store(b, Options{})
			ctx := context.Background()
			for range b.N {
				e.exec(b, `TRUNCATE `+s.Table())
				e.exec(b, `INSERT INTO `+s.Table()+` SELECT 'live-' || i, $1::json, to_timestamp($2) FROM generate_series(1, $3) i`,
					string(benchData), unixCeil(time.Now().Add(time.Hour)), rows/2)
				e.exec(b, `INSERT INTO `+s.Table()+` SELECT 'dead-' || i, $1::json, to_timestamp($2) FROM generate_series(1, $3) i`,
					string(benchData), time.Now().Add(-time.Hour).Unix(), rows-rows/2)
				e.exec(b, `ANALYZE `+s.Table())

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
							id := "live-" + strconv.Itoa(1+rng.IntN(rows/2))
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
					var tag pgconn.CommandTag
					tag, err = e.pool.Exec(ctx, `DELETE FROM `+s.Table()+` WHERE "expire" < to_timestamp($1)`, unixCeil(time.Now()))
					n = tag.RowsAffected()
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

func p99(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	return ds[len(ds)*99/100]
}
