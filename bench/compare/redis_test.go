package compare

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"runtime"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alexedwards/scs/goredisstore"
	"github.com/alexedwards/scs/v2"
	"github.com/redis/go-redis/v9"

	"github.com/sessionkit/sessionkit/codecs/jsoncodec"
	"github.com/sessionkit/sessionkit/internal/redistest"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/stores/redisstore"
)

// The Redis benchmarks put raw go-redis commands, scs's goredisstore and
// redisstore side by side in one process, on the same server and keys, so
// their ratios hold on a noisy machine. Each runs serially and 8-way (8
// goroutines whatever GOMAXPROCS is). Run from this directory with:
//
//	go test -run '^$' -bench Redis -benchtime 1s .

const redisBenchKeys = 1024

// redisModes runs body serially and with 8 goroutines; next hands each call a
// fresh index.
func redisModes(b *testing.B, body func(i int) error) {
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			if err := body(i); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("par8", func(b *testing.B) {
		b.ReportAllocs()
		b.SetParallelism(max(1, 8/runtime.GOMAXPROCS(0)))
		var seq atomic.Int64
		b.RunParallel(func(pb *testing.PB) {
			i := int(seq.Add(redisBenchKeys / 8))
			for pb.Next() {
				if err := body(i); err != nil {
					b.Error(err)
					return
				}
				i++
			}
		})
	})
}

type redisBenchEnv struct {
	c      *redis.Client
	prefix string // session key prefix, "<test prefix>sess:"
	ids    []string
	data   []byte
	ours   *redisstore.Store
	scs    *goredisstore.RedisStore
}

func newRedisBenchEnv(b *testing.B) *redisBenchEnv {
	c := redistest.Client(b)
	p := redistest.Prefix(b, c)
	e := &redisBenchEnv{c: c, prefix: p + "sess:", data: []byte(redisJSON)}
	var err error
	if e.ours, err = redisstore.New(c, redisstore.Options{Prefix: e.prefix, UserPrefix: p + "user:"}); err != nil {
		b.Fatal(err)
	}
	e.scs = goredisstore.NewWithPrefix(c, e.prefix)
	ctx := context.Background()
	exp := time.Now().Add(time.Hour)
	for i := range redisBenchKeys {
		id := "bench" + strconv.Itoa(i) + "-" + newID(b)
		e.ids = append(e.ids, id)
		if err := e.ours.Save(ctx, id, e.data, exp); err != nil {
			b.Fatal(err)
		}
	}
	return e
}

func (e *redisBenchEnv) id(i int) string { return e.ids[i%redisBenchKeys] }

type redisImpl struct {
	name string
	f    func(i int) error
}

type redisGroup struct {
	op    string
	impls []redisImpl
}

// redisStoreGroups are single store calls next to the raw command each stands
// for. scs has no touch: it extends a session by rewriting it (CommitCtx).
func redisStoreGroups(e *redisBenchEnv) []redisGroup {
	ctx := context.Background()
	exp := time.Now().Add(time.Hour)
	return []redisGroup{
		{"load", []redisImpl{
			{"raw", func(i int) error { return e.c.Get(ctx, e.prefix+e.id(i)).Err() }},
			{"scs", func(i int) error { _, _, err := e.scs.FindCtx(ctx, e.id(i)); return err }},
			{"ours", func(i int) error { _, _, _, err := e.ours.Load(ctx, e.id(i)); return err }},
		}},
		{"save", []redisImpl{
			{"raw", func(i int) error { return e.c.Set(ctx, e.prefix+e.id(i), e.data, time.Hour).Err() }},
			{"scs", func(i int) error { return e.scs.CommitCtx(ctx, e.id(i), e.data, exp) }},
			{"ours", func(i int) error { return e.ours.Save(ctx, e.id(i), e.data, exp) }},
		}},
		{"touch", []redisImpl{
			{"raw", func(i int) error { return e.c.Expire(ctx, e.prefix+e.id(i), time.Hour).Err() }},
			{"scs", func(i int) error { return e.scs.CommitCtx(ctx, e.id(i), e.data, exp) }},
			{"ours", func(i int) error { return e.ours.Touch(ctx, e.id(i), exp) }},
		}},
	}
}

func runRedisGroups(b *testing.B, groups []redisGroup) {
	for _, g := range groups {
		b.Run(g.op, func(b *testing.B) {
			for _, im := range g.impls {
				b.Run(im.name, func(b *testing.B) { redisModes(b, im.f) })
			}
		})
	}
}

// BenchmarkRedisStore measures single store calls; see redisStoreGroups.
func BenchmarkRedisStore(b *testing.B) {
	runRedisGroups(b, redisStoreGroups(newRedisBenchEnv(b)))
}

// BenchmarkRedisManager measures whole requests through session.Manager on this
// store against the raw commands a hand-written handler would send (the
// floor) and against scs's SessionManager on goredisstore:
//
//   - read: load a session and read a value; nothing is written.
//   - modify: load, read, change a value, save.
//   - rolling: load and read with the idle expiry slid on every request
//     (TouchInterval < 0: Touch; the floor: GET + EXPIRE; scs rewrites the
//     session, as its idle timeout does).
func BenchmarkRedisManager(b *testing.B) {
	runRedisGroups(b, redisManagerGroups(b, newRedisBenchEnv(b)))
}

// redisManagerGroups are whole requests; see BenchmarkRedisManager.
func redisManagerGroups(b *testing.B, e *redisBenchEnv) []redisGroup {
	ctx := context.Background()
	newManager := func(touch time.Duration) *session.Manager {
		m, err := session.New(session.Config{Store: e.ours, Codec: jsoncodec.New(), TouchInterval: touch})
		if err != nil {
			b.Fatal(err)
		}
		return m
	}
	m, rolling := newManager(0), newManager(-1)
	// Seed real sessions through the Manager so they carry its metadata.
	ids := make([]string, redisBenchKeys)
	for i := range ids {
		s := m.Open(ctx, "")
		if err := s.Put("user", "ada"); err != nil {
			b.Fatal(err)
		}
		res, err := m.Commit(ctx, s)
		if err != nil {
			b.Fatal(err)
		}
		ids[i] = res.ID
	}
	id := func(i int) string { return ids[i%redisBenchKeys] }

	sm := scs.New()
	sm.Store = goredisstore.NewWithPrefix(e.c, e.prefix+"scs:")
	sm.IdleTimeout = 24 * time.Hour
	tokens := make([]string, redisBenchKeys)
	for i := range tokens {
		c, err := sm.Load(ctx, "")
		if err != nil {
			b.Fatal(err)
		}
		sm.Put(c, "user", "ada")
		if tokens[i], _, err = sm.Commit(c); err != nil {
			b.Fatal(err)
		}
	}
	token := func(i int) string { return tokens[i%redisBenchKeys] }

	read := func(m *session.Manager) func(int) error {
		return func(i int) error {
			s := m.Open(ctx, id(i))
			if _, err := session.Get[string](s, "user"); err != nil {
				return err
			}
			_, err := m.Commit(ctx, s)
			return err
		}
	}
	return []redisGroup{
		{"read", []redisImpl{
			{"floor", func(i int) error { return e.c.Get(ctx, e.prefix+id(i)).Err() }},
			{"scs", func(i int) error {
				c, err := sm.Load(ctx, token(i))
				if err == nil && sm.GetString(c, "user") != "ada" {
					b.Fatal("scs lost the value")
				}
				return err
			}},
			{"ours", read(m)},
		}},
		{"modify", []redisImpl{
			{"floor", func(i int) error {
				if err := e.c.Get(ctx, e.prefix+id(i)).Err(); err != nil {
					return err
				}
				return e.c.Set(ctx, e.prefix+"floor:"+id(i), e.data, time.Hour).Err()
			}},
			{"scs", func(i int) error {
				c, err := sm.Load(ctx, token(i))
				if err != nil {
					return err
				}
				sm.Put(c, "n", i)
				_, _, err = sm.Commit(c)
				return err
			}},
			{"ours", func(i int) error {
				s := m.Open(ctx, id(i))
				if _, err := session.Get[string](s, "user"); err != nil {
					return err
				}
				if err := s.Put("n", i); err != nil {
					return err
				}
				_, err := m.Commit(ctx, s)
				return err
			}},
		}},
		{"rolling", []redisImpl{
			{"floor", func(i int) error {
				if err := e.c.Get(ctx, e.prefix+id(i)).Err(); err != nil {
					return err
				}
				return e.c.Expire(ctx, e.prefix+id(i), 24*time.Hour).Err()
			}},
			{"scs", func(i int) error {
				c, err := sm.Load(ctx, token(i))
				if err != nil {
					return err
				}
				_ = sm.GetString(c, "user")
				_, _, err = sm.Commit(c)
				return err
			}},
			{"ours", read(rolling)},
		}},
	}
}

// BenchmarkRedisInterleaved compares each implementation with the raw floor of
// its operation in pairs: every round calls the floor and the other once
// each, alternating who goes first (the first call after the other pays a
// measurable cache and scheduling penalty), so that a load spike on a shared
// machine hits both alike. Pairs keep one implementation's garbage from
// slowing another's (scs allocates ten times what this store does). It
// reports both medians (p50-ns) and their ratio (x-floor). Serial only.
func BenchmarkRedisInterleaved(b *testing.B) {
	e := newRedisBenchEnv(b)
	groups := append(redisStoreGroups(e), redisManagerGroups(b, e)...)
	for _, g := range groups {
		floor := g.impls[0]
		for _, im := range g.impls[1:] {
			b.Run(g.op+"/"+im.name, func(b *testing.B) {
				pair := [2]redisImpl{floor, im}
				var samples [2][]time.Duration
				for i := 0; b.Loop(); i++ {
					for k := range 2 {
						j := (i + k) % 2
						t0 := time.Now()
						if err := pair[j].f(i); err != nil {
							b.Fatal(err)
						}
						samples[j] = append(samples[j], time.Since(t0))
					}
				}
				var p50 [2]time.Duration
				for j := range 2 {
					slices.Sort(samples[j])
					p50[j] = samples[j][len(samples[j])/2]
				}
				b.ReportMetric(float64(p50[0]), "floor-p50-ns")
				b.ReportMetric(float64(p50[1]), im.name+"-p50-ns")
				b.ReportMetric(float64(p50[1])/float64(p50[0]), "x-floor")
			})
		}
	}
}

// redisJSON is a session as express-session stores it.
const redisJSON = `{"cookie":{"originalMaxAge":86400000,"expires":"2030-01-01T00:00:00.000Z","httpOnly":true,"path":"/"},"user":"ada"}`

// newID returns a fresh random session ID.
func newID(tb testing.TB) string {
	var b [24]byte
	if _, err := rand.Read(b[:]); err != nil {
		tb.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}
