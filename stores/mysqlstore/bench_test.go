package mysqlstore

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"log/slog"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/codecs/jsoncodec"
	"github.com/sessionkit/sessionkit/internal/mysqltest"
	"github.com/sessionkit/sessionkit/session"
)

// The benchmarks compare, in one process so that ratios hold on a noisy
// machine, database/sql on go-sql-driver/mysql running exactly this store's
// SQL as prepared statements (the floor) with this store. Each runs
// serially and with 8 goroutines. Run with:
//
//	scripts/bench-cores apart -- go test -run '^$' -bench . -benchtime 2000x ./stores/mysqlstore/

const benchIDs = 512

var benchData = []byte(`{"cookie":{"originalMaxAge":86400000,"expires":"2030-01-01T00:00:00.000Z","httpOnly":true,"path":"/","sameSite":"lax"},"user_id":"u-1234","cart":{"items":[1,2,3],"total":4200},"flash":{}}`)

type benchEnv struct {
	db   *sql.DB
	ours *Store
	raw  stmts // the same SQL, prepared on the same handle
}

func newBenchEnv(b *testing.B) benchEnv {
	b.Helper()
	db := mysqltest.DB(b, nil)
	db.SetMaxIdleConns(16)
	ctx := context.Background()
	s, err := New(ctx, db, Options{Table: mysqltest.Table(b), CreateTable: true, PruneInterval: -1, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	e := benchEnv{db: db, ours: s}
	qs := queries(s.table)
	for i, p := range e.raw.all() {
		if *p, err = db.PrepareContext(ctx, qs[i]); err != nil {
			b.Fatal(err)
		}
	}
	b.Cleanup(e.raw.close)
	exp := time.Now().Add(time.Hour)
	for i := range benchIDs {
		if err := s.Save(ctx, benchID(i), benchData, exp); err != nil {
			b.Fatal(err)
		}
	}
	return e
}

func benchID(i int) string { return "bench-session-" + strconv.Itoa(i%benchIDs) }

// benchDoc is benchData with a counter, so that every write changes the
// row: the server skips writing a row set to the values it holds, which
// would make a floor that rewrites one document unfairly cheap.
func benchDoc(i int) string {
	return string(benchData[:len(benchData)-1]) + `,"n":` + strconv.Itoa(i) + `}`
}

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
	exp := func() int64 { return unixRound(time.Now().Add(time.Hour)) }
	now := func() int64 { return unixRound(time.Now()) }

	b.Run("load", func(b *testing.B) {
		b.Run("raw", func(b *testing.B) {
			both(b, func(b *testing.B, i int) {
				var (
					data []byte
					x    int64
				)
				if err := e.raw.load.QueryRowContext(ctx, benchID(i), now()).Scan(&data, &x); err != nil {
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
				if _, err := e.raw.save.ExecContext(ctx, benchID(i), exp(), benchDoc(i)); err != nil {
					b.Fatal(err)
				}
			})
		})
		b.Run("ours", func(b *testing.B) {
			both(b, func(b *testing.B, i int) {
				if err := e.ours.Save(ctx, benchID(i), []byte(benchDoc(i)), time.Now().Add(time.Hour)); err != nil {
					b.Fatal(err)
				}
			})
		})
	})
	b.Run("touch", func(b *testing.B) {
		b.Run("raw", func(b *testing.B) {
			both(b, func(b *testing.B, i int) {
				if _, err := e.raw.touch.ExecContext(ctx, exp(), benchID(i), now()); err != nil {
					b.Fatal(err)
				}
			})
		})
		b.Run("ours", func(b *testing.B) {
			both(b, func(b *testing.B, i int) {
				if err := e.ours.Touch(ctx, benchID(i), time.Now().Add(time.Hour)); err != nil {
					b.Fatal(err)
				}
			})
		})
	})
	// The conditional write path: LoadVersion, then Replace against its
	// version. Each goroutine works on IDs no other one uses at the same
	// moment only by chance, so a rare conflict is counted, not fatal.
	b.Run("load-replace", func(b *testing.B) {
		b.Run("raw", func(b *testing.B) {
			both(b, func(b *testing.B, i int) {
				var (
					data []byte
					x    int64
				)
				if err := e.raw.load.QueryRowContext(ctx, benchID(i), now()).Scan(&data, &x); err != nil {
					b.Fatal(err)
				}
				v := sha256.Sum256(data)
				if _, err := e.raw.replace.ExecContext(ctx, benchDoc(i), exp(), benchID(i), now(), v[:]); err != nil {
					b.Fatal(err)
				}
			})
		})
		b.Run("ours", func(b *testing.B) {
			both(b, func(b *testing.B, i int) {
				_, _, v, found, err := e.ours.LoadVersion(ctx, benchID(i))
				if err != nil || !found {
					b.Fatal(found, err)
				}
				if err := e.ours.Replace(ctx, benchID(i), []byte(benchDoc(i)), time.Now().Add(time.Hour), v); err != nil && !isConflict(err) {
					b.Fatal(err)
				}
			})
		})
	})
}

func isConflict(err error) bool { return errors.Is(err, session.ErrConflict) }

// BenchmarkManager measures whole requests through the session Manager
// (JSON codec, this store) against the floor of the same statements through
// database/sql with no decoding:
//   - read: load a session and read one value; no idle timeout.
//   - rolling-read: the same with a 24h idle timeout (the Manager touches
//     only when a tenth of the window has passed, so here never).
//   - modify: load, change one value, save.
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
	rawLoad := func(b *testing.B, i int) {
		var (
			data []byte
			x    int64
		)
		if err := e.raw.load.QueryRowContext(ctx, benchID(i), unixRound(time.Now())).Scan(&data, &x); err != nil {
			b.Fatal(err)
		}
	}
	// rawLoadVersion and the conditional modify are the floor of a Manager
	// that uses the ConditionalStore path: the load statement and the hash
	// LoadVersion computes.
	rawLoadVersion := func(b *testing.B, i int) []byte {
		var (
			data []byte
			x    int64
		)
		if err := e.raw.load.QueryRowContext(ctx, benchID(i), unixRound(time.Now())).Scan(&data, &x); err != nil {
			b.Fatal(err)
		}
		v := sha256.Sum256(data)
		return v[:]
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
	}{{"read", -1}, {"rolling-read", 24 * time.Hour}} {
		b.Run(c.name, func(b *testing.B) {
			m, ids := newOurs(b, c.idle)
			b.Run("raw", func(b *testing.B) { both(b, rawLoad) })
			b.Run("raw-conditional", func(b *testing.B) { both(b, func(b *testing.B, i int) { rawLoadVersion(b, i) }) })
			b.Run("ours", func(b *testing.B) { both(b, oursRead(m, ids)) })
		})
	}
	b.Run("modify", func(b *testing.B) {
		m, ids := newOurs(b, -1)
		b.Run("raw", func(b *testing.B) {
			both(b, func(b *testing.B, i int) {
				rawLoad(b, i)
				if _, err := e.raw.save.ExecContext(ctx, benchID(i), unixRound(time.Now().Add(time.Hour)), benchDoc(i)); err != nil {
					b.Fatal(err)
				}
			})
		})
		b.Run("raw-conditional", func(b *testing.B) {
			both(b, func(b *testing.B, i int) {
				v := rawLoadVersion(b, i)
				if _, err := e.raw.replace.ExecContext(ctx, benchDoc(i), unixRound(time.Now().Add(time.Hour)), benchID(i), unixRound(time.Now()), v); err != nil {
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
}
