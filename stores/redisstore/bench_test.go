package redisstore_test

import (
	"context"
	"runtime"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sessionkit/sessionkit/codecs/jsoncodec"
	"github.com/sessionkit/sessionkit/internal/redistest"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/stores/redisstore"
)

// The benchmarks put raw go-redis commands and this store side by side in
// one process, on the same server and keys, so their ratios hold on a noisy
// machine. The same benchmarks with scs's goredisstore beside them are in
// the module bench/compare, so that this module does not require it. Each runs serially and 8-way (8 goroutines
// whatever GOMAXPROCS is). Run with:
//
//	go test -run '^$' -bench . -benchtime 1s ./stores/redisstore/

const benchKeys = 1024

// modes runs body serially and with 8 goroutines; next hands each call a
// fresh index.
func modes(b *testing.B, body func(i int) error) {
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
			i := int(seq.Add(benchKeys / 8))
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

type benchEnv struct {
	c      *redis.Client
	prefix string // session key prefix, "<test prefix>sess:"
	ids    []string
	data   []byte
	ours   *redisstore.Store
}

func newBenchEnv(b *testing.B) *benchEnv {
	c := redistest.Client(b)
	p := redistest.Prefix(b, c)
	e := &benchEnv{c: c, prefix: p + "sess:", data: []byte(expressJSON)}
	var err error
	if e.ours, err = redisstore.New(c, redisstore.Options{Prefix: e.prefix, UserPrefix: p + "user:"}); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	exp := time.Now().Add(time.Hour)
	for i := range benchKeys {
		id := "bench" + strconv.Itoa(i) + "-" + newID(b)
		e.ids = append(e.ids, id)
		if err := e.ours.Save(ctx, id, e.data, exp); err != nil {
			b.Fatal(err)
		}
	}
	return e
}

func (e *benchEnv) id(i int) string { return e.ids[i%benchKeys] }

type impl struct {
	name string
	f    func(i int) error
}

type group struct {
	op    string
	impls []impl
}

// storeGroups are single store calls next to the raw command each stands
// for.
func storeGroups(e *benchEnv) []group {
	ctx := context.Background()
	exp := time.Now().Add(time.Hour)
	return []group{
		{"load", []impl{
			{"raw", func(i int) error { return e.c.Get(ctx, e.prefix+e.id(i)).Err() }},
			{"ours", func(i int) error { _, _, _, err := e.ours.Load(ctx, e.id(i)); return err }},
		}},
		{"save", []impl{
			{"raw", func(i int) error { return e.c.Set(ctx, e.prefix+e.id(i), e.data, time.Hour).Err() }},
			{"ours", func(i int) error { return e.ours.Save(ctx, e.id(i), e.data, exp) }},
		}},
		{"touch", []impl{
			{"raw", func(i int) error { return e.c.Expire(ctx, e.prefix+e.id(i), time.Hour).Err() }},
			{"ours", func(i int) error { return e.ours.Touch(ctx, e.id(i), exp) }},
		}},
	}
}

func runGroups(b *testing.B, groups []group) {
	for _, g := range groups {
		b.Run(g.op, func(b *testing.B) {
			for _, im := range g.impls {
				b.Run(im.name, func(b *testing.B) { modes(b, im.f) })
			}
		})
	}
}

// BenchmarkStore measures single store calls; see storeGroups.
func BenchmarkStore(b *testing.B) {
	runGroups(b, storeGroups(newBenchEnv(b)))
}

// BenchmarkManager measures whole requests through session.Manager on this
// store against the raw commands a hand-written handler would send (the
// floor):
//
//   - read: load a session and read a value; nothing is written.
//   - modify: load, read, change a value, save.
//   - rolling: load and read with the idle expiry slid on every request
//     (TouchInterval < 0: Touch; the floor: GET + EXPIRE).
func BenchmarkManager(b *testing.B) {
	runGroups(b, managerGroups(b, newBenchEnv(b)))
}

// managerGroups are whole requests; see BenchmarkManager.
func managerGroups(b *testing.B, e *benchEnv) []group {
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
	ids := make([]string, benchKeys)
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
	id := func(i int) string { return ids[i%benchKeys] }

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
	return []group{
		{"read", []impl{
			{"floor", func(i int) error { return e.c.Get(ctx, e.prefix+id(i)).Err() }},
			{"ours", read(m)},
		}},
		{"modify", []impl{
			{"floor", func(i int) error {
				if err := e.c.Get(ctx, e.prefix+id(i)).Err(); err != nil {
					return err
				}
				return e.c.Set(ctx, e.prefix+"floor:"+id(i), e.data, time.Hour).Err()
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
		{"rolling", []impl{
			{"floor", func(i int) error {
				if err := e.c.Get(ctx, e.prefix+id(i)).Err(); err != nil {
					return err
				}
				return e.c.Expire(ctx, e.prefix+id(i), 24*time.Hour).Err()
			}},
			{"ours", read(rolling)},
		}},
	}
}

// BenchmarkInterleaved compares each implementation with the raw floor of
// its operation in pairs: every round calls the floor and the other once
// each, alternating who goes first (the first call after the other pays a
// measurable cache and scheduling penalty), so that a load spike on a shared
// machine hits both alike. Pairs keep one implementation's garbage from
// slowing another's (bench/compare runs scs's store in the same pairs). It
// reports both medians (p50-ns) and their ratio (x-floor). Serial only.
func BenchmarkInterleaved(b *testing.B) {
	e := newBenchEnv(b)
	groups := append(storeGroups(e), managerGroups(b, e)...)
	for _, g := range groups {
		floor := g.impls[0]
		for _, im := range g.impls[1:] {
			b.Run(g.op+"/"+im.name, func(b *testing.B) {
				pair := [2]impl{floor, im}
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
