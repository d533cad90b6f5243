package redisstore_test

import (
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sessionkit/sessionkit/codecs/jsoncodec"
	"github.com/sessionkit/sessionkit/internal/redistest"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/stores/redisstore"
)

// usedMemory reads INFO memory's used_memory.
func usedMemory(t *testing.T, c *redis.Client) int64 {
	t.Helper()
	info, err := c.Info(context.Background(), "memory").Result()
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.SplitSeq(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "used_memory:"); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatal("no used_memory in INFO memory")
	return 0
}

// nodeLogin is the document express-session writes at a login that stores
// the same values as goLogin, with connect-redis's default TTL.
func nodeLogin(exp time.Time) string {
	return `{"cookie":{"originalMaxAge":86400000,"expires":"` + exp.UTC().Format("2006-01-02T15:04:05.000Z") +
		`","httpOnly":true,"path":"/","sameSite":"lax"},"profile":{"email":"u42@example.com","name":"u42","prefs":{"beta":false,"langs":["en","ja"],"ratio":0.5,"theme":"dark"}},"roles":["admin","editor"],"user_id":"u42"}`
}

// TestMemoryPerSession measures what a session costs in Redis memory, as
// used_memory before and after 10,000 logins of the same user, on a
// private redis-server: written by Node (connect-redis: the document and
// its TTL) and by Go with and without the user index. Without it (the
// NoUserIndex opt-out) a Go session must cost at most 1.2x a Node one; what
// is left is sessionkit's metadata in the document (created, deadline).
func TestMemoryPerSession(t *testing.T) {
	if _, err := exec.LookPath("redis-server"); err != nil {
		redistest.Unavailable(t, "redis-server is not installed")
	}
	const n = 10_000
	measure := func(t *testing.T, login func(c *redis.Client, i int)) float64 {
		t.Helper()
		addr, _ := privateRedis(t)
		c := redis.NewClient(&redis.Options{Addr: addr})
		defer c.Close()
		login(c, -1) // one first, so lazily made structures are not counted
		before := usedMemory(t, c)
		for i := range n {
			login(c, i)
		}
		return float64(usedMemory(t, c)-before) / n
	}
	ctx := context.Background()
	node := measure(t, func(c *redis.Client, i int) {
		exp := time.Now().Add(24 * time.Hour)
		if err := c.Set(ctx, "sess:"+session.NewID(), nodeLogin(exp), 24*time.Hour).Err(); err != nil {
			t.Fatal(err)
		}
	})
	goLogin := func(opts redisstore.Options) func(c *redis.Client, i int) {
		var m *session.Manager
		return func(c *redis.Client, i int) {
			if m == nil {
				st, err := redisstore.New(c, opts)
				if err != nil {
					t.Fatal(err)
				}
				m, err = session.New(session.Config{Store: st, Codec: jsoncodec.New(), Cookie: session.CookieOptions{SameSite: "lax"}})
				if err != nil {
					t.Fatal(err)
				}
			}
			s := m.Open(ctx, "")
			for _, kv := range []struct {
				k string
				v any
			}{{"profile", map[string]any{"email": "u42@example.com", "name": "u42", "prefs": map[string]any{
				"beta": false, "langs": []string{"en", "ja"}, "ratio": 0.5, "theme": "dark"}}}, {"roles", []string{"admin", "editor"}}} {
				if err := s.Put(kv.k, kv.v); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.SetUser("u42"); err != nil {
				t.Fatal(err)
			}
			if _, err := m.Commit(ctx, s); err != nil {
				t.Fatal(err)
			}
		}
	}
	results := []struct {
		name  string
		bytes float64
	}{
		{"node", node},
		{"go, user index", measure(t, goLogin(redisstore.Options{}))},
		{"go, NoUserIndex", measure(t, goLogin(redisstore.Options{NoUserIndex: true}))},
	}
	var b strings.Builder
	for _, r := range results {
		fmt.Fprintf(&b, "\n  %-28s %6.0f bytes/session  %.2fx node", r.name, r.bytes, r.bytes/node)
	}
	t.Logf("Redis used_memory per session, %d logins of one user:%s", n, b.String())
	if ratio := results[2].bytes / node; ratio > 1.2 {
		t.Errorf("with NoUserIndex a Go session takes %.2fx the memory of a Node one, want at most 1.2x", ratio)
	}
}
