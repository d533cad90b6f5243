package interop

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/http/httptest"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/stores/redisstore"
)

const defaultRedisURL = "redis://127.0.0.1:6379/0"

// redisEnv is one test's Redis side: a client, a random key prefix whose keys
// are deleted when the test ends, and our store under that prefix.
type redisEnv struct {
	url    string
	client *redis.Client
	prefix string // of every key the test may create
	store  *redisstore.Store
}

func newRedisEnv(t *testing.T) *redisEnv {
	t.Helper()
	requireNode(t)
	url := os.Getenv("SESSIONKIT_REDIS_URL")
	if url == "" {
		url = defaultRedisURL
	}
	opts, err := redis.ParseURL(url)
	if err != nil {
		t.Fatalf("SESSIONKIT_REDIS_URL: %v", err)
	}
	client := redis.NewClient(opts)
	t.Cleanup(func() { _ = client.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := client.Ping(ctx).Err(); err != nil {
		unavailable(t, "Redis unreachable at "+opts.Addr+" ("+err.Error()+")", "start it or set SESSIONKIT_REDIS_URL")
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	prefix := "sk-interop-" + hex.EncodeToString(b[:]) + ":"
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		iter := client.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		for iter.Next(ctx) {
			if err := client.Del(ctx, iter.Val()).Err(); err != nil {
				t.Errorf("delete test key: %v", err)
			}
		}
		if err := iter.Err(); err != nil {
			t.Errorf("scan test keys: %v", err)
		}
	})
	store, err := redisstore.New(client, redisstore.Options{Prefix: prefix + "sess:", UserPrefix: prefix + "user:"})
	if err != nil {
		t.Fatalf("redis.New: %v", err)
	}
	t.Cleanup(func() { _ = store.Close() })
	return &redisEnv{url: url, client: client, prefix: prefix, store: store}
}

// node starts server.js on connect-redis with the same key prefix.
func (e *redisEnv) node(t *testing.T, maxAge time.Duration, secrets ...string) *pendingNode {
	t.Helper()
	return launchNode(t, map[string]string{
		"STORE":          "redis",
		"REDIS_URL":      e.url,
		"REDIS_PREFIX":   e.prefix + "sess:",
		"SECRETS":        secretsJSON(secrets...),
		"COOKIE_MAX_AGE": strconv.FormatInt(maxAge.Milliseconds(), 10),
	})
}

func (e *redisEnv) goApp(t *testing.T, idle time.Duration, secrets ...string) *httptest.Server {
	t.Helper()
	return goApp(t, session.Config{Store: e.store, IdleTimeout: idle}, secrets...)
}

// value reads the session's key as stored, and its expiry in Unix ms.
func (e *redisEnv) value(t *testing.T, id string) (doc string, expireMS int64, found bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	key := e.prefix + "sess:" + id
	doc, err := e.client.Get(ctx, key).Result()
	if errors.Is(err, redis.Nil) {
		return "", 0, false
	}
	if err != nil {
		t.Fatalf("GET: %v", err)
	}
	exp, err := e.client.PExpireTime(ctx, key).Result()
	if err != nil {
		t.Fatalf("PEXPIRETIME: %v", err)
	}
	return doc, exp.Milliseconds(), true
}

func (e *redisEnv) mustValue(t *testing.T, id string) (string, int64) {
	t.Helper()
	doc, exp, ok := e.value(t, id)
	if !ok {
		t.Fatalf("no key for the session")
	}
	if exp <= 0 {
		t.Fatalf("the session's key has no expiry (PEXPIRETIME %d)", exp)
	}
	return doc, exp
}

// TestRedisBothWays shares connect-redis's keys between the Express app and
// the Go service.
func TestRedisBothWays(t *testing.T) {
	e := newRedisEnv(t)
	pending := e.node(t, time.Hour, secretNew)
	goURL := e.goApp(t, time.Hour, secretNew).URL
	node := pending.wait().URL

	t.Run("node-writes-go-reads", func(t *testing.T) {
		b := newBrowser(t)
		id := b.login(node, "alice")
		before, _ := e.mustValue(t, id)
		got := b.session(goURL)
		if got.SessionID != id {
			t.Fatalf("go: sessionID %q, want node's %q", got.SessionID, id)
		}
		checkValues(t, "go", got.Session, expectedLogin("alice"))
		checkTyped(t, b, goURL, "alice")
		if after, _ := e.mustValue(t, id); after != before {
			t.Errorf("go rewrote an unmodified session:\nbefore %s\n after %s", before, after)
		}
	})

	t.Run("go-writes-node-reads", func(t *testing.T) {
		b := newBrowser(t)
		id := b.login(goURL, "bob")
		got := b.session(node)
		if got.SessionID != id {
			t.Fatalf("node: sessionID %q, want go's %q", got.SessionID, id)
		}
		checkValues(t, "node", got.Session, expectedLogin("bob"))
	})

	t.Run("go-modifies-node-sees", func(t *testing.T) {
		b := newBrowser(t)
		b.login(node, "carol")
		set := map[string]any{"theme": "light", "visits": 3}
		b.must(200, "POST", goURL+"/set", set)
		want := expectedLogin("carol")
		for k, v := range set {
			want[k] = v
		}
		checkValues(t, "node", b.session(node).Session, roundTrip(want))
	})

	t.Run("node-modifies-go-sees", func(t *testing.T) {
		b := newBrowser(t)
		b.login(goURL, "dave")
		set := map[string]any{"theme": "sepia", "visits": 7}
		b.must(200, "POST", node+"/set", set)
		want := expectedLogin("dave")
		for k, v := range set {
			want[k] = v
		}
		checkValues(t, "go", b.session(goURL).Session, roundTrip(want))
	})

	n, g := app{"node", node}, app{"go", goURL}
	logoutCases(t, node, goURL, [][2]app{{n, g}, {g, n}}, func(t *testing.T, id string) bool {
		_, _, found := e.value(t, id)
		return found
	})
	sameDocument(t, node, goURL, func(t *testing.T, id string) string { return first(e.mustValue(t, id)) })
}

// TestRedisTouch checks that a read on either side keeps a session alive on
// both: Node's touch (EXPIRE) and Go's (PEXPIREAT) each carry the session
// past the expiry the other side last set, and neither rewrites the value.
func TestRedisTouch(t *testing.T) {
	const maxAge = 3 * time.Second
	e := newRedisEnv(t)
	pending := e.node(t, maxAge, secretNew)
	// The Go default touch interval, a tenth of the idle timeout, applies.
	goURL := e.goApp(t, maxAge, secretNew).URL
	node := pending.wait().URL

	for _, origin := range []struct{ side, url string }{{"node", node}, {"go", goURL}} {
		t.Run("login-at-"+origin.side, func(t *testing.T) {
			t.Parallel()
			b := newBrowser(t)
			id := b.login(origin.url, "nina")
			doc0, p0 := e.mustValue(t, id)

			time.Sleep(maxAge * 2 / 5)
			b.must(200, "GET", node+"/session", nil)
			_, p1 := e.mustValue(t, id)
			if p1 <= p0 {
				t.Fatalf("a Node read did not move the expiry: %d ms, then %d ms", p0, p1)
			}

			// Past the expiry set at login: alive only through Node's touch.
			time.Sleep(time.Until(time.UnixMilli(p0 + 300)))
			b.must(200, "GET", goURL+"/session", nil)
			_, p2 := e.mustValue(t, id)
			if p2 <= p1 {
				t.Fatalf("a Go read did not move the expiry: %d ms, then %d ms", p1, p2)
			}

			// Past the expiry Node's touch set: alive only through Go's.
			time.Sleep(time.Until(time.UnixMilli(p1 + 300)))
			got := b.session(node)
			checkValues(t, "node", got.Session, expectedLogin("nina"))
			b.must(200, "GET", goURL+"/session", nil)

			if doc, _ := e.mustValue(t, id); doc != doc0 {
				t.Errorf("a touch rewrote the value:\nbefore %s\n after %s", doc0, doc)
			}
		})
	}
}

// TestRedisRevokeUser ends the sessions of a user from Go. The store's user
// index is a set that only Go fills (connect-redis keeps none), so sessions
// that Node created and Go never saved or touched are not found.
func TestRedisRevokeUser(t *testing.T) {
	e := newRedisEnv(t)
	pending := e.node(t, time.Hour, secretNew)
	srv, m := goAppManager(t, session.Config{Store: e.store, IdleTimeout: time.Hour, UserKey: "userId"}, secretNew)
	revokeScenario(t, pending.wait().URL, srv.URL, m, false)
}
