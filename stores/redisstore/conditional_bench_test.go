package redisstore_test

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/codecs/jsoncodec"
	"github.com/sessionkit/sessionkit/internal/redistest"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/stores/redisstore"
)

// BenchmarkInterleavedWrite measures the write model against raw go-redis
// sending the same commands, in pairs as BenchmarkInterleaved does (each
// round calls the floor and ours once, alternating which goes first) and
// reports both medians and their ratio. Serial.
//
//   - read: a request that reads a value, against a bare GET (the read
//     path, unchanged by the write model: GET and PEXPIRETIME pipelined).
//
//   - modify: a request that changes a value, against the same commands
//     raw: the pipelined GET + PEXPIRETIME, the SHA-1 of the value, and the
//     Replace script by EVALSHA.
//
//   - modify-vs-set: the same request against the floor of the
//     unconditional model (GET, then SET), the condition's cost included.
//
//   - conflict: another writer SETs the key between the load and the commit,
//     so the commit fails once, reloads and retries; the floor sends the
//     same commands raw.
//
//     scripts/bench-cores apart -- go test -run '^$' -bench InterleavedWrite -benchtime 20000x -benchmem ./stores/redisstore/
func BenchmarkInterleavedWrite(b *testing.B) {
	c := redistest.Client(b)
	base := redistest.Prefix(b, c)
	prefix := base + "sess:"
	store, err := redisstore.New(c, redisstore.Options{Prefix: prefix, UserPrefix: base + "user:"})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	m, err := session.New(session.Config{Store: store, Codec: jsoncodec.New(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
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
	key := func(i int) string { return prefix + ids[i%benchKeys] }
	doc := func(i int) []byte {
		return fmt.Appendf(nil, `{"cookie":{"originalMaxAge":86400000,"expires":"2030-01-01T00:00:00.000Z","httpOnly":true,"path":"/","sameSite":"lax"},"n":%d,"user":"ada"}`, i)
	}
	rawLoadVersion := func(i int) (string, error) {
		pipe := c.Pipeline()
		get := pipe.Get(ctx, key(i))
		pipe.PExpireTime(ctx, key(i))
		if _, err := pipe.Exec(ctx); err != nil {
			return "", err
		}
		data, _ := get.Bytes()
		sum := sha1.Sum(data)
		return hex.EncodeToString(sum[:]), nil
	}
	rawReplace := func(i int, ver string) (int, error) {
		exp := time.Now().Add(24 * time.Hour).UnixMilli()
		return redisstore.ReplaceScript.Run(ctx, c, []string{key(i)}, ver, doc(i), exp).Int()
	}
	rawModify := func(i int) error {
		ver, err := rawLoadVersion(i)
		if err != nil {
			return err
		}
		if n, err := rawReplace(i, ver); err != nil || n != 1 {
			return fmt.Errorf("raw replace: %d, %v", n, err)
		}
		return nil
	}
	otherWriter := func(i int) error {
		return c.Set(ctx, key(i), doc(-i), 24*time.Hour).Err()
	}
	oursModify := func(i int) error {
		s := m.Open(ctx, ids[i%benchKeys])
		if _, err := session.Get[string](s, "user"); err != nil {
			return err
		}
		if err := s.Put("n", i); err != nil {
			return err
		}
		_, err := m.Commit(ctx, s)
		return err
	}
	cases := []struct {
		name        string
		floor, ours func(i int) error
	}{
		{"read", func(i int) error { return c.Get(ctx, key(i)).Err() }, func(i int) error {
			s := m.Open(ctx, ids[i%benchKeys])
			if _, err := session.Get[string](s, "user"); err != nil {
				return err
			}
			_, err := m.Commit(ctx, s)
			return err
		}},
		{"modify", rawModify, oursModify},
		{"modify-vs-set", func(i int) error {
			if err := c.Get(ctx, key(i)).Err(); err != nil {
				return err
			}
			return c.Set(ctx, key(i), doc(i), 24*time.Hour).Err()
		}, oursModify},
		{"conflict", func(i int) error {
			ver, err := rawLoadVersion(i)
			if err != nil {
				return err
			}
			if err := otherWriter(i); err != nil {
				return err
			}
			if n, err := rawReplace(i, ver); err != nil || n != 2 {
				return fmt.Errorf("raw replace over a changed value: %d, %v", n, err)
			}
			return rawModify(i)
		}, func(i int) error {
			s := m.Open(ctx, ids[i%benchKeys])
			if _, err := session.Get[string](s, "user"); err != nil {
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
	}
	for _, cs := range cases {
		b.Run(cs.name, func(b *testing.B) {
			b.ReportAllocs()
			pair := [2]func(int) error{cs.floor, cs.ours}
			var samples [2][]time.Duration
			for i := 0; b.Loop(); i++ {
				for k := range 2 {
					j := (i + k) % 2
					t0 := time.Now()
					if err := pair[j](i); err != nil {
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
			b.ReportMetric(float64(p50[1]), "ours-p50-ns")
			b.ReportMetric(float64(p50[1])/float64(p50[0]), "x-floor")
		})
	}
}
