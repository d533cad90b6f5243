package redisstore_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sessionkit/sessionkit/internal/redistest"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/stores/redisstore"
)

// TestForeignKeyTypes puts keys of every other type under the session prefix,
// as another application sharing the Redis may: Load reads each as absent,
// Count and Iterate skip them, and the store counts what it skipped and logs
// it without the key.
func TestForeignKeyTypes(t *testing.T) {
	for _, tc := range []struct {
		name   string
		client func(t *testing.T) redis.UniversalClient
	}{
		{"single", func(t *testing.T) redis.UniversalClient { return redistest.Client(t) }},
		{"cluster", func(t *testing.T) redis.UniversalClient { return redistest.Cluster(t) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.client(t)
			ctx := context.Background()
			p := redistest.Prefix(t, c)
			var logs bytes.Buffer
			s, err := redisstore.New(c, redisstore.Options{
				Prefix: p + "sess:", UserPrefix: p + "user:",
				Logger: slog.New(slog.NewTextHandler(&logs, nil)),
			})
			if err != nil {
				t.Fatal(err)
			}
			exp := time.Now().Add(time.Minute)
			if err := s.Save(ctx, "real", []byte(expressJSON), exp); err != nil {
				t.Fatal(err)
			}
			foreign := map[string]func(key string) error{
				"hash-id":   func(k string) error { return c.HSet(ctx, k, "f", "v").Err() },
				"list-id":   func(k string) error { return c.RPush(ctx, k, "v").Err() },
				"set-id":    func(k string) error { return c.SAdd(ctx, k, "v").Err() },
				"zset-id":   func(k string) error { return c.ZAdd(ctx, k, redis.Z{Score: 1, Member: "v"}).Err() },
				"stream-id": func(k string) error { return c.XAdd(ctx, &redis.XAddArgs{Stream: k, Values: []any{"f", "v"}}).Err() },
			}
			for id, mk := range foreign {
				if err := mk(p + "sess:" + id); err != nil {
					t.Fatal(err)
				}
			}
			for id := range foreign {
				data, _, found, err := s.Load(ctx, id)
				if err != nil || found {
					t.Errorf("Load of a %s = %q, %v, %v; want not found and no error", strings.TrimSuffix(id, "-id"), data, found, err)
				}
			}
			if n := s.Foreign(); n != int64(len(foreign)) {
				t.Errorf("Foreign() after the loads = %d, want %d", n, len(foreign))
			}
			if n, err := s.Count(ctx); err != nil || n != 1 {
				t.Errorf("Count = %d, %v; want 1 (the foreign keys are no sessions)", n, err)
			}
			var ids []string
			err = s.Iterate(ctx, func(r session.Record) error {
				ids = append(ids, r.ID)
				return nil
			})
			if err != nil || len(ids) != 1 || ids[0] != "real" {
				t.Errorf("Iterate yielded %q, %v; want only the session", ids, err)
			}
			if n := s.Foreign(); n != 2*int64(len(foreign)) {
				t.Errorf("Foreign() after Iterate = %d, want %d", n, 2*len(foreign))
			}
			// A conditional save never writes over another program's key:
			// no session lives there, so it is gone, not a store failure.
			for id := range foreign {
				err := s.Replace(ctx, id, []byte(expressJSON), exp, []byte(expressJSON))
				if !errors.Is(err, session.ErrNotFound) {
					t.Errorf("Replace over a %s = %v; want an error wrapping session.ErrNotFound", strings.TrimSuffix(id, "-id"), err)
				}
				if ok, err := s.Insert(ctx, id, []byte(expressJSON), exp); ok || err != nil {
					t.Errorf("Insert over a %s = %v, %v; want false, nil (the key is taken)", strings.TrimSuffix(id, "-id"), ok, err)
				}
			}
			if !strings.Contains(logs.String(), "another type") {
				t.Errorf("no log line about the foreign keys: %q", logs.String())
			}
			for id := range foreign {
				if strings.Contains(logs.String(), id) {
					t.Errorf("log names the key %q: %q", id, logs.String())
				}
			}
		})
	}
}
