package boltstore

import (
	"context"
	"encoding/binary"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

// The benchmarks compare, in one process and on real files (with fsync),
// the raw bbolt floor, an scs-style store (one Update per write), bbolt's
// Batch and this store, serially and with 8 concurrent writers:
//
//	go test -run '^$' -bench . -benchtime 2000x ./stores/boltstore

const (
	benchKeys    = 1000
	benchPayload = 512
	benchWriters = 8
)

var benchBucket = []byte("bench")

func benchIDs() []string {
	ids := make([]string, benchKeys)
	for i := range ids {
		ids[i] = "session-id-" + strconv.Itoa(i) + "-0123456789abcdef"
	}
	return ids
}

func benchDB(b *testing.B) *bbolt.DB {
	b.Helper()
	db, err := bbolt.Open(filepath.Join(b.TempDir(), "raw.db"), 0o600, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = db.Close() })
	if err := db.Update(func(tx *bbolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(benchBucket)
		return err
	}); err != nil {
		b.Fatal(err)
	}
	return db
}

func benchStore(b *testing.B) *Store {
	b.Helper()
	s, err := Open(filepath.Join(b.TempDir(), "ours.db"), Options{PruneInterval: -1})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close() })
	return s
}

func BenchmarkRead(b *testing.B) {
	ids := benchIDs()
	data := make([]byte, benchPayload)
	exp := time.Now().Add(time.Hour)

	b.Run("raw-view-get", func(b *testing.B) {
		db := benchDB(b)
		keys := make([][]byte, len(ids))
		_ = db.Update(func(tx *bbolt.Tx) error {
			for i, id := range ids {
				keys[i] = []byte(id)
				_ = tx.Bucket(benchBucket).Put(keys[i], data)
			}
			return nil
		})
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			var out []byte
			// The copy is part of the floor: bbolt's memory dies with the tx.
			_ = db.View(func(tx *bbolt.Tx) error {
				out = append([]byte(nil), tx.Bucket(benchBucket).Get(keys[i%benchKeys])...)
				return nil
			})
			if len(out) != benchPayload {
				b.Fatal("missing record")
			}
		}
	})

	b.Run("ours-load", func(b *testing.B) {
		s := benchStore(b)
		ctx := context.Background()
		_ = s.db.Update(func(tx *bbolt.Tx) error {
			bk, _ := s.bucketsOf(tx)
			for _, id := range ids {
				buf := make([]byte, 8+len(id)+header+len(data))
				putRecord(buf, id, data, exp)
				o := &op{kind: opSave, buf: buf, n: len(id)}
				if err := apply(bk, o, 0); err != nil {
					return err
				}
			}
			return nil
		})
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			out, _, found, err := s.Load(ctx, ids[i%benchKeys])
			if err != nil || !found || len(out) != benchPayload {
				b.Fatal("missing record", err)
			}
		}
	})
}

// writers runs b.N calls of write, serially or spread over benchWriters
// goroutines; ns/op is then the time per write of the whole group.
func writers(b *testing.B, n int, write func(i int) error) {
	b.ReportAllocs()
	b.ResetTimer()
	var wg sync.WaitGroup
	for w := range n {
		wg.Go(func() {
			for i := w; i < b.N; i += n {
				if err := write(i); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}

func BenchmarkWrite(b *testing.B) {
	ids := benchIDs()
	keys := make([][]byte, len(ids))
	for i, id := range ids {
		keys[i] = []byte(id)
	}
	data := make([]byte, benchPayload)

	for _, mode := range []struct {
		name string
		n    int
	}{{"serial", 1}, {"8-writers", benchWriters}} {
		b.Run("raw-update/"+mode.name, func(b *testing.B) {
			db := benchDB(b)
			writers(b, mode.n, func(i int) error {
				return db.Update(func(tx *bbolt.Tx) error {
					return tx.Bucket(benchBucket).Put(keys[i%benchKeys], data)
				})
			})
		})

		// scs-style: what scs's bolt store does, one Update per Commit with
		// the expiry in front of the data.
		b.Run("scs-style/"+mode.name, func(b *testing.B) {
			db := benchDB(b)
			writers(b, mode.n, func(i int) error {
				v := make([]byte, 8+len(data))
				binary.BigEndian.PutUint64(v, uint64(time.Now().Add(time.Hour).UnixNano()))
				copy(v[8:], data)
				return db.Update(func(tx *bbolt.Tx) error {
					return tx.Bucket(benchBucket).Put(keys[i%benchKeys], v)
				})
			})
		})

		// ours-update: this store's layout (record and expiry index) with one
		// Update per write, to separate the layout's cost from group commit.
		b.Run("ours-update/"+mode.name, func(b *testing.B) {
			s := benchStore(b)
			exp := time.Now().Add(time.Hour)
			writers(b, mode.n, func(i int) error {
				id := ids[i%benchKeys]
				buf := make([]byte, 8+len(id)+header+len(data))
				putRecord(buf, id, data, exp)
				return s.db.Update(func(tx *bbolt.Tx) error {
					bk, err := s.bucketsOf(tx)
					if err != nil {
						return err
					}
					return apply(bk, &op{kind: opSave, buf: buf, n: len(id)}, 0)
				})
			})
		})

		b.Run("bolt-batch/"+mode.name, func(b *testing.B) {
			db := benchDB(b)
			writers(b, mode.n, func(i int) error {
				return db.Batch(func(tx *bbolt.Tx) error {
					return tx.Bucket(benchBucket).Put(keys[i%benchKeys], data)
				})
			})
		})

		b.Run("ours-save/"+mode.name, func(b *testing.B) {
			s := benchStore(b)
			ctx := context.Background()
			exp := time.Now().Add(time.Hour)
			writers(b, mode.n, func(i int) error {
				return s.Save(ctx, ids[i%benchKeys], data, exp)
			})
			b.ReportMetric(float64(s.committed.Load())/float64(s.commits.Load()), "ops/commit")
		})
	}
}

// BenchmarkScaling measures how 8 concurrent writers compare with one on the
// same file, alternating short serial and concurrent phases so that drift in
// the disk's speed (other processes' I/O) affects both alike. It reports the
// time per write of each phase and their ratio, the throughput gain.
func BenchmarkScaling(b *testing.B) {
	ids := benchIDs()
	keys := make([][]byte, len(ids))
	for i, id := range ids {
		keys[i] = []byte(id)
	}
	data := make([]byte, benchPayload)
	exp := time.Now().Add(time.Hour)

	const per = 32 // writes per writer and phase
	// run alternates phases until b.N writes are done; s, when not nil, is
	// the store whose commits the 8-writer phases are counted on.
	run := func(b *testing.B, s *Store, write func(i int) error) {
		b.ReportAllocs()
		var serial, parallel time.Duration
		var ns, np int
		var commits, committed int64
		for done := 0; done < b.N; {
			start := time.Now()
			for i := range per {
				if err := write(done + i); err != nil {
					b.Fatal(err)
				}
			}
			serial += time.Since(start)
			ns += per
			done += per

			if s != nil {
				commits, committed = commits-s.commits.Load(), committed-s.committed.Load()
			}
			start = time.Now()
			var wg sync.WaitGroup
			for w := range benchWriters {
				wg.Go(func() {
					for i := range per {
						if err := write(done + w*per + i); err != nil {
							b.Error(err)
						}
					}
				})
			}
			wg.Wait()
			parallel += time.Since(start)
			if s != nil {
				commits, committed = commits+s.commits.Load(), committed+s.committed.Load()
			}
			np += benchWriters * per
			done += benchWriters * per
		}
		ps, pp := float64(serial)/float64(ns), float64(parallel)/float64(np)
		b.ReportMetric(ps, "serial-ns/write")
		b.ReportMetric(pp, "8w-ns/write")
		b.ReportMetric(ps/pp, "speedup")
		if s != nil {
			b.ReportMetric(float64(committed)/float64(commits), "8w-ops/commit")
		}
	}

	b.Run("raw-update", func(b *testing.B) {
		db := benchDB(b)
		run(b, nil, func(i int) error {
			return db.Update(func(tx *bbolt.Tx) error {
				return tx.Bucket(benchBucket).Put(keys[i%benchKeys], data)
			})
		})
	})
	b.Run("bolt-batch", func(b *testing.B) {
		db := benchDB(b)
		run(b, nil, func(i int) error {
			return db.Batch(func(tx *bbolt.Tx) error {
				return tx.Bucket(benchBucket).Put(keys[i%benchKeys], data)
			})
		})
	})
	b.Run("ours-save", func(b *testing.B) {
		s := benchStore(b)
		ctx := context.Background()
		run(b, s, func(i int) error { return s.Save(ctx, ids[i%benchKeys], data, exp) })
	})
}

// BenchmarkReadRatio reads the same records from the same file through the
// raw floor (View, Get, copy) and through Load, alternating chunks of 100
// reads, and reports the median time per read of each kind of chunk and
// their ratio: medians of short alternating chunks keep CPU contention from
// other processes (a preempted chunk) out of the comparison.
func BenchmarkReadRatio(b *testing.B) {
	ids := benchIDs()
	keys := make([][]byte, len(ids))
	for i, id := range ids {
		keys[i] = []byte(id)
	}
	s := benchStore(b)
	ctx := context.Background()
	data := make([]byte, benchPayload)
	var wg sync.WaitGroup
	for w := range benchWriters {
		wg.Go(func() {
			for i := w; i < benchKeys; i += benchWriters {
				if err := s.Save(ctx, ids[i], data, time.Now().Add(time.Hour)); err != nil {
					b.Error(err)
				}
			}
		})
	}
	wg.Wait()

	const chunk = 100
	var raw, ours []time.Duration
	b.ReportAllocs()
	b.ResetTimer()
	for n := 0; n < b.N; n += 2 * chunk {
		start := time.Now()
		for i := range chunk {
			var out []byte
			_ = s.db.View(func(tx *bbolt.Tx) error {
				out = append([]byte(nil), tx.Bucket(s.data).Get(keys[(n+i)%benchKeys])...)
				return nil
			})
			if len(out) == 0 {
				b.Fatal("missing record")
			}
		}
		raw = append(raw, time.Since(start))
		start = time.Now()
		for i := range chunk {
			if out, _, found, err := s.Load(ctx, ids[(n+i)%benchKeys]); err != nil || !found || len(out) != benchPayload {
				b.Fatal("missing record", err)
			}
		}
		ours = append(ours, time.Since(start))
	}
	b.StopTimer()
	median := func(d []time.Duration) float64 {
		slices.Sort(d)
		return float64(d[len(d)/2]) / chunk
	}
	r, o := median(raw), median(ours)
	b.ReportMetric(r, "raw-ns/read")
	b.ReportMetric(o, "load-ns/read")
	b.ReportMetric(o/r, "load/raw")
}
