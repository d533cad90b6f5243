package compare

import (
	"context"
	"log/slog"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alexedwards/scs/pgxstore"
	"github.com/alexedwards/scs/v2"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sessionkit/sessionkit/codecs/jsoncodec"
	"github.com/sessionkit/sessionkit/internal/pgtest"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/stores/pgstore"
)

// The PostgreSQL benchmarks run scs's pgxstore on its own sessions table
// and pgstore on connect-pg-simple's, in one process and one schema, so
// that their ratios hold on a noisy machine. Each runs serially and with 8
// goroutines. The raw pgx floor (pgstore's own statements, no decoding) is
// in pgstore's benchmarks, which have the same names and an "ours" row to
// line the two runs up. Run from this directory with:
//
//	go test -run '^$' -bench Postgres -benchtime 2000x .

const pgBenchIDs = 512

var pgBenchData = []byte(`{"cookie":{"originalMaxAge":86400000,"expires":"2030-01-01T00:00:00.000Z","httpOnly":true,"path":"/","sameSite":"lax"},"user_id":"u-1234","cart":{"items":[1,2,3],"total":4200},"flash":{}}`)

type pgBenchEnv struct {
	ours *pgstore.Store
	scs  *pgxstore.PostgresStore
}

// newPGBenchEnv makes a pool whose search_path is a fresh schema, so that
// pgxstore's unqualified "sessions" table and pgstore's "session" both live
// there, and seeds pgBenchIDs sessions in each.
func newPGBenchEnv(b *testing.B) pgBenchEnv {
	b.Helper()
	admin := pgtest.Pool(b, nil)
	schema := pgtest.Schema(b, admin)
	pool := pgtest.Pool(b, func(c *pgxpool.Config) {
		c.ConnConfig.RuntimeParams["search_path"] = schema
		c.MaxConns = 16
	})
	ctx := context.Background()
	s, err := pgstore.New(ctx, pool, pgstore.Options{CreateTable: true, PruneInterval: -1, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	for _, sql := range []string{
		`CREATE TABLE sessions (token TEXT PRIMARY KEY, data BYTEA NOT NULL, expiry TIMESTAMPTZ NOT NULL)`,
		`CREATE INDEX sessions_expiry_idx ON sessions (expiry)`,
	} {
		if _, err := pool.Exec(ctx, sql); err != nil {
			b.Fatal(err)
		}
	}
	ss := pgxstore.NewWithCleanupInterval(pool, 0)
	exp := time.Now().Add(time.Hour)
	for i := range pgBenchIDs {
		if err := s.Save(ctx, pgBenchID(i), pgBenchData, exp); err != nil {
			b.Fatal(err)
		}
		if err := ss.Commit(pgBenchID(i), pgBenchData, exp); err != nil {
			b.Fatal(err)
		}
	}
	return pgBenchEnv{ours: s, scs: ss}
}

func pgBenchID(i int) string { return "bench-session-" + strconv.Itoa(i%pgBenchIDs) }

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

// BenchmarkPostgresStore measures single store calls.
func BenchmarkPostgresStore(b *testing.B) {
	e := newPGBenchEnv(b)
	ctx := context.Background()
	exp := func() time.Time { return time.Now().Add(time.Hour) }

	b.Run("load", func(b *testing.B) {
		b.Run("scs", func(b *testing.B) {
			both(b, func(b *testing.B, i int) {
				if _, found, err := e.scs.Find(pgBenchID(i)); err != nil || !found {
					b.Fatal(found, err)
				}
			})
		})
		b.Run("ours", func(b *testing.B) {
			both(b, func(b *testing.B, i int) {
				if _, _, found, err := e.ours.Load(ctx, pgBenchID(i)); err != nil || !found {
					b.Fatal(found, err)
				}
			})
		})
	})
	b.Run("save", func(b *testing.B) {
		b.Run("scs", func(b *testing.B) {
			both(b, func(b *testing.B, i int) {
				if err := e.scs.Commit(pgBenchID(i), pgBenchData, exp()); err != nil {
					b.Fatal(err)
				}
			})
		})
		b.Run("ours", func(b *testing.B) {
			both(b, func(b *testing.B, i int) {
				if err := e.ours.Save(ctx, pgBenchID(i), pgBenchData, exp()); err != nil {
					b.Fatal(err)
				}
			})
		})
	})
	// pgxstore has no touch: scs moves an expiry by rewriting the record,
	// so its row is a Commit of the same data.
	b.Run("touch", func(b *testing.B) {
		b.Run("scs", func(b *testing.B) {
			both(b, func(b *testing.B, i int) {
				if err := e.scs.Commit(pgBenchID(i), pgBenchData, exp()); err != nil {
					b.Fatal(err)
				}
			})
		})
		b.Run("ours", func(b *testing.B) {
			both(b, func(b *testing.B, i int) {
				if err := e.ours.Touch(ctx, pgBenchID(i), exp()); err != nil {
					b.Fatal(err)
				}
			})
		})
	})
}

// BenchmarkPostgresManager measures whole requests through the session
// Manager (JSON codec, pgstore) and through scs's SessionManager on
// pgxstore, mirroring what scs's LoadAndSave middleware does (commit when
// the status is Modified), without HTTP:
//   - read: load a session and read one value; no idle timeout.
//   - rolling-read: the same with a 24h idle timeout (scs then writes on
//     every request; the Manager touches only when a tenth of the window has
//     passed, so here never).
//   - modify: load, change one value, save.
//   - new-untouched: a request without a cookie whose handler never
//     touches the session.
func BenchmarkPostgresManager(b *testing.B) {
	e := newPGBenchEnv(b)
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
	newSCS := func(b *testing.B, idle time.Duration) (*scs.SessionManager, []string) {
		sm := scs.New()
		sm.Store = e.scs
		sm.IdleTimeout = idle
		toks := make([]string, 64)
		for i := range toks {
			c, err := sm.Load(ctx, "")
			if err != nil {
				b.Fatal(err)
			}
			sm.Put(c, "k", "value")
			if toks[i], _, err = sm.Commit(c); err != nil {
				b.Fatal(err)
			}
		}
		return sm, toks
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
	scsRead := func(sm *scs.SessionManager, toks []string) func(*testing.B, int) {
		return func(b *testing.B, i int) {
			c, err := sm.Load(ctx, toks[i%len(toks)])
			if err != nil {
				b.Fatal(err)
			}
			if v := sm.GetString(c, "k"); v != "value" {
				b.Fatal(v)
			}
			if sm.Status(c) == scs.Modified {
				if _, _, err := sm.Commit(c); err != nil {
					b.Fatal(err)
				}
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
			sm, toks := newSCS(b, c.idle)
			b.Run("scs", func(b *testing.B) { both(b, scsRead(sm, toks)) })
			b.Run("ours", func(b *testing.B) { both(b, oursRead(m, ids)) })
		})
	}
	b.Run("modify", func(b *testing.B) {
		m, ids := newOurs(b, -1)
		sm, toks := newSCS(b, 0)
		b.Run("scs", func(b *testing.B) {
			both(b, func(b *testing.B, i int) {
				c, err := sm.Load(ctx, toks[i%len(toks)])
				if err != nil {
					b.Fatal(err)
				}
				sm.Put(c, "n", i)
				if _, _, err := sm.Commit(c); err != nil {
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
		sm, _ := newSCS(b, 0)
		b.Run("scs", func(b *testing.B) {
			both(b, func(b *testing.B, i int) {
				c, err := sm.Load(ctx, "")
				if err != nil {
					b.Fatal(err)
				}
				if sm.Status(c) == scs.Modified {
					b.Fatal("modified")
				}
			})
		})
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
