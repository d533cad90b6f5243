package redisstore_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sessionkit/sessionkit/codecs/jsoncodec"
	"github.com/sessionkit/sessionkit/internal/redistest"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/stores/redisstore"
)

// BenchmarkCancel puts side by side what honouring the caller's context
// costs: a store call with a context that can never end (Background: the
// command runs on the caller's goroutine) against one that can, as a
// request's can (the command runs on a goroutine of its own, see the store's
// do), on a client with go-redis's ContextTimeoutEnabled as Open makes it.
// The two alternate call by call, as in BenchmarkInterleaved, and the
// medians are compared (x-background).
//
//	scripts/bench-cores apart -- go test -run '^$' -bench Cancel -benchtime 20000x ./stores/redisstore/
func BenchmarkCancel(b *testing.B) {
	e := newBenchEnv(b)
	exp := time.Now().Add(time.Hour)
	cancellable, cancel := context.WithCancel(context.Background())
	b.Cleanup(cancel)
	m, err := session.New(session.Config{Store: e.ours, Codec: jsoncodec.New()})
	if err != nil {
		b.Fatal(err)
	}
	ops := map[string]func(ctx context.Context, i int) error{
		"load": func(ctx context.Context, i int) error { _, _, _, err := e.ours.Load(ctx, e.id(i)); return err },
		"save": func(ctx context.Context, i int) error { return e.ours.Save(ctx, e.id(i), e.data, exp) },
		"manager-read": func(ctx context.Context, i int) error {
			s := m.Open(ctx, e.id(i))
			if _, err := session.Get[string](s, "user"); err != nil {
				return err
			}
			_, err := m.Commit(ctx, s)
			return err
		},
	}
	for _, name := range []string{"load", "save", "manager-read"} {
		op := ops[name]
		b.Run(name, func(b *testing.B) {
			interleave(b, "background", func(i int) error { return op(context.Background(), i) },
				"cancellable", func(i int) error { return op(cancellable, i) })
		})
	}
}

// interleave calls a and c alternately, each first in turn, and reports
// their medians and c's over a's.
func interleave(b *testing.B, aName string, a func(int) error, cName string, c func(int) error) {
	fs := [2]func(int) error{a, c}
	var samples [2][]time.Duration
	for i := 0; b.Loop(); i++ {
		for k := range 2 {
			j := (i + k) % 2
			t0 := time.Now()
			if err := fs[j](i); err != nil {
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
	b.ReportMetric(float64(p50[0]), aName+"-p50-ns")
	b.ReportMetric(float64(p50[1]), cName+"-p50-ns")
	b.ReportMetric(float64(p50[1])/float64(p50[0]), "x-"+aName)
}

// BenchmarkDeadlineChurn measures what ContextTimeoutEnabled changes for
// pooled connections: each call's deadline (30 µs) ends before most replies
// come. With the option, go-redis stops reading at the deadline and closes
// the connection, so the next call dials a new one (dials/op); without it,
// the command finishes on its connection, which goes back to the pool, and
// only the caller stops waiting (the store's do).
func BenchmarkDeadlineChurn(b *testing.B) {
	base := redistest.Client(b)
	p := redistest.Prefix(b, base)
	exp := time.Now().Add(time.Hour)
	for _, cte := range []bool{false, true} {
		name := "cte=off"
		if cte {
			name = "cte=on"
		}
		b.Run(name, func(b *testing.B) {
			o := *base.Options()
			o.ContextTimeoutEnabled = cte
			c := redis.NewClient(&o)
			defer c.Close()
			s, err := redisstore.New(c, redisstore.Options{Prefix: p + "sess:", UserPrefix: p + "user:"})
			if err != nil {
				b.Fatal(err)
			}
			if err := s.Save(context.Background(), "x", []byte(expressJSON), exp); err != nil {
				b.Fatal(err)
			}
			before := c.PoolStats().Misses
			b.ReportAllocs()
			timedOut := 0
			for b.Loop() {
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Microsecond)
				if _, _, _, err := s.Load(ctx, "x"); err != nil {
					timedOut++
				}
				cancel()
			}
			b.ReportMetric(float64(c.PoolStats().Misses-before)/float64(b.N), "dials/op")
			b.ReportMetric(float64(timedOut)/float64(b.N), "timeouts/op")
		})
	}
}
