package pgstore

import (
	"context"
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
	// The write model's statements, raw: the SELECT with xmin and the
	// conditional UPDATE (conditional.go), with the document the Manager
	// would write.
	doc := func(i int) []byte {
		return fmt.Appendf(nil, `{"cookie":{"originalMaxAge":86400000,"expires":"2030-01-01T00:00:00.000Z","httpOnly":true,"path":"/","sameSite":"lax"},"k":"value","n":%d}`, i)
	}
	rawLoadVersion := func(i int) ([]byte, error) {
		var (
			data, ver []byte
			ms        int64
		)
		err := e.pool.QueryRow(ctx, e.ours.cq.loadVersion, ids[i%len(ids)], unixCeil(time.Now())).Scan(&data, &ms, &ver)
		return ver, err
	}
	rawReplace := func(i int, ver []byte) (bool, error) {
		tag, err := e.pool.Exec(ctx, e.ours.cq.replace, doc(i), unixCeil(time.Now().Add(time.Hour)), ids[i%len(ids)],
			unixCeil(time.Now()), string(ver))
		return err == nil && tag.RowsAffected() > 0, err
	}
	// rawModify retries as the Manager does, should two goroutines meet on
	// one session.
	rawModify := func(i int) error {
		ver, err := rawLoadVersion(i)
		for range 32 {
			if err != nil {
				return err
			}
			if ok, err := rawReplace(i, ver); err != nil || ok {
				return err
			}
			ver, err = rawLoadVersion(i) // as Replace does after a refusal
		}
		return errors.New("raw replace: conflicts without end")
	}
	// otherWriter changes the record as a concurrent request would.
	otherWriter := func(i int) error {
		return e.ours.Save(ctx, ids[i%len(ids)], doc(-i), time.Now().Add(time.Hour))
	}
	oursModify := func(i int) error {
		s := m.Open(ctx, ids[i%len(ids)])
		if err := s.Put("n", i); err != nil {
			return err
		}
		_, err := m.Commit(ctx, s)
		return err
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
		// modify: the Manager's conditional save against the same two
		// statements sent raw.
		{"modify", rawModify, oursModify},
		// modify-vs-upsert: the same request against the floor of the
		// unconditional write model (plain SELECT and upsert), the cost of
		// the condition included.
		{"modify-vs-upsert", func(i int) error {
			if err := rawLoad(i); err != nil {
				return err
			}
			_, err := e.pool.Exec(ctx, e.ours.q.save, benchData, unixCeil(time.Now().Add(time.Hour)), ids[i%len(ids)])
			return err
		}, oursModify},
		// conflict: another writer saves between the load and the commit, so
		// the commit fails once, reloads and retries. The floor sends the
		// same five statements raw.
		{"conflict", func(i int) error {
			ver, err := rawLoadVersion(i)
			if err != nil {
				return err
			}
			if err := otherWriter(i); err != nil {
				return err
			}
			if ok, err := rawReplace(i, ver); err != nil || ok {
				return fmt.Errorf("raw replace over a changed row: wrote %v, %v", ok, err)
			}
			return rawModify(i) // the load Replace makes, then the write
		}, func(i int) error {
			s := m.Open(ctx, ids[i%len(ids)])
			if _, err := s.Keys(); err != nil {
				return err
			}
			if err := otherWriter(i); err != nil {
				return err
			}
			if err := s.Put("n", i); err != nil {
				return err
			}
			_, err := m.Commit(ctx, s)
			return err
		}},
		// token: the Replace statement with xmin as the token (raw) against
		// one comparing the stored text instead (as "ours"), both raw, for
		// the choice explained in conditional.go.
		{"token-text-vs-xmin", rawModify, func(i int) error {
			var (
				data, ver []byte
				ms        int64
			)
			id := ids[i%len(ids)]
			if err := e.pool.QueryRow(ctx, e.ours.cq.loadVersion, id, unixCeil(time.Now())).Scan(&data, &ms, &ver); err != nil {
				return err
			}
			tag, err := e.pool.Exec(ctx, textReplace(e.ours), doc(i), unixCeil(time.Now().Add(time.Hour)), id,
				unixCeil(time.Now()), string(data))
			if err == nil && tag.RowsAffected() == 0 {
				err = errors.New("text replace did not write")
			}
			return err
		}},
	}
	for _, c := range cases {
		for _, workers := range []int{1, 8} {
			if workers > 1 && (c.name == "conflict" || c.name == "token-text-vs-xmin") {
				continue // one session per goroutine is not guaranteed
			}
			b.Run(fmt.Sprintf("%s/workers%d", c.name, workers), func(b *testing.B) {
				raw, ours := interleave(b, workers, c.raw, c.ours)
				b.ReportMetric(float64(raw), "raw-p50-ns")
				b.ReportMetric(float64(ours), "ours-p50-ns")
				b.ReportMetric(float64(ours)/float64(raw), "ours-x-raw")
			})
		}
	}
}

// textReplace is the Replace statement with the stored text as the token.
func textReplace(s *Store) string {
	return `UPDATE ` + s.names.table + ` SET "sess" = $1, "expire" = to_timestamp($2)` +
		` WHERE "sid" = $3 AND "expire" >= to_timestamp($4) AND "sess"::text = $5`
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
