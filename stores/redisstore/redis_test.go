package redisstore_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sessionkit/sessionkit/conformance"
	"github.com/sessionkit/sessionkit/internal/redistest"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/stores/redisstore"
)

// newStore returns a store under a fresh key prefix on c; the prefix's keys
// are deleted when the test ends.
func newStore(t testing.TB, c redis.UniversalClient) *redisstore.Store {
	t.Helper()
	p := redistest.Prefix(t, c)
	s, err := redisstore.New(c, redisstore.Options{Prefix: p + "sess:", UserPrefix: p + "user:"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func harness(c redis.UniversalClient) conformance.Harness {
	return conformance.Harness{
		New: func(t *testing.T) session.Store { return newStore(t, c) },
		Reopen: func(t *testing.T, st session.Store) session.Store {
			old := st.(*redisstore.Store)
			_ = old.Close()
			s, err := redisstore.New(c, redisstore.Options{Prefix: old.Prefix(), UserPrefix: strings.TrimSuffix(old.Prefix(), "sess:") + "user:"})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = s.Close() })
			return s
		},
		// Expiry is an absolute instant in milliseconds (PXAT, PEXPIREAT,
		// PEXPIRETIME), so the suite's default tolerance applies.
		Skip: map[string]string{
			"iterator/many/no-repeats": "SCAN may return a key twice while Redis resizes its keyspace, which other tests' keys can make it do; Iterate documents it",
		},
	}
}

func TestConformance(t *testing.T) {
	c := redistest.Client(t)
	h := harness(c)
	// The stall cases get a store whose client reaches Redis through a
	// proxy of their own, which Stall stops forwarding.
	var proxies sync.Map // *redisstore.Store → *redistest.Proxy
	plain := h.New
	h.New = func(t *testing.T) session.Store {
		if !strings.Contains(t.Name(), "/stall/") {
			return plain(t)
		}
		p := redistest.NewProxy(t, c.Options().Addr)
		o := *c.Options()
		o.Addr = p.Addr()
		pc := redis.NewClient(&o)
		t.Cleanup(func() { _ = pc.Close() })
		s := newStore(t, pc)
		proxies.Store(s, p)
		return s
	}
	h.Stall = func(t *testing.T, st session.Store) func() {
		p, ok := proxies.Load(st)
		if !ok {
			t.Fatal("Stall on a store made without a proxy")
		}
		return p.(*redistest.Proxy).Stall()
	}
	conformance.Run(t, h)
}

func TestConformanceCluster(t *testing.T) {
	conformance.Run(t, harness(redistest.Cluster(t)))
}

func newID(t testing.TB) string {
	var b [24]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

const expressJSON = `{"cookie":{"originalMaxAge":86400000,"expires":"2030-01-01T00:00:00.000Z","httpOnly":true,"path":"/"},"user":"ada"}`

// TestKeyLayout checks the connect-redis layout with the default prefix: a
// saved session is the string key sess:<id> holding the bytes given, its
// expiry is the session's (to the millisecond), Touch moves only the expiry,
// and an expiry in the past deletes the key.
func TestKeyLayout(t *testing.T) {
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
			s, err := redisstore.New(c, redisstore.Options{})
			if err != nil {
				t.Fatal(err)
			}
			id := newID(t)
			key := "sess:" + id
			t.Cleanup(func() { c.Del(context.Background(), key) })

			exp := time.Now().Add(90 * time.Second)
			if err := s.Save(ctx, id, []byte(expressJSON), exp); err != nil {
				t.Fatal(err)
			}
			if got, err := c.Get(ctx, key).Result(); err != nil || got != expressJSON {
				t.Fatalf("GET %s = %q, %v; want the saved JSON", "sess:<id>", got, err)
			}
			if typ := c.Type(ctx, key).Val(); typ != "string" {
				t.Fatalf("TYPE sess:<id> = %s; want string", typ)
			}
			if ttl := c.TTL(ctx, key).Val(); ttl < 88*time.Second || ttl > 90*time.Second {
				t.Fatalf("TTL sess:<id> = %v; want about 90s", ttl)
			}
			if at := c.PExpireTime(ctx, key).Val(); int64(at/time.Millisecond) != exp.UnixMilli() {
				t.Fatalf("PEXPIRETIME sess:<id> = %d; want %d", at/time.Millisecond, exp.UnixMilli())
			}

			// A value written by someone else (connect-redis) survives Touch
			// byte for byte: Touch never rewrites it.
			other := `{"cookie":{"path":"/"},"from":"node"}`
			if err := c.Set(ctx, key, other, time.Minute).Err(); err != nil {
				t.Fatal(err)
			}
			later := time.Now().Add(2 * time.Hour)
			if err := s.Touch(ctx, id, later); err != nil {
				t.Fatal(err)
			}
			if got := c.Get(ctx, key).Val(); got != other {
				t.Fatalf("after Touch GET = %q; want %q", got, other)
			}
			if at := c.PExpireTime(ctx, key).Val(); int64(at/time.Millisecond) != later.UnixMilli() {
				t.Fatalf("after Touch PEXPIRETIME = %d; want %d", at/time.Millisecond, later.UnixMilli())
			}
			data, gotExp, found, err := s.Load(ctx, id)
			if err != nil || !found || string(data) != other || gotExp.UnixMilli() != later.UnixMilli() {
				t.Fatalf("Load = %q, %v, %v, %v; want the node value expiring %v", data, gotExp, found, err, later)
			}

			// Touch of a missing key creates nothing.
			ghost := newID(t)
			if err := s.Touch(ctx, ghost, later); err != nil {
				t.Fatal(err)
			}
			if n := c.Exists(ctx, "sess:"+ghost).Val(); n != 0 {
				t.Fatalf("Touch created a missing key")
			}

			// A Save whose expiry has passed deletes rather than writes.
			if err := s.Save(ctx, id, []byte(expressJSON), time.Now().Add(-time.Second)); err != nil {
				t.Fatal(err)
			}
			if n := c.Exists(ctx, key).Val(); n != 0 {
				t.Fatalf("Save with a past expiry left the key")
			}

			// A key without an expiry (connect-redis with disableTTL) loads
			// with a zero expiry.
			if err := c.Set(ctx, key, other, 0).Err(); err != nil {
				t.Fatal(err)
			}
			_, gotExp, found, err = s.Load(ctx, id)
			if err != nil || !found || !gotExp.IsZero() {
				t.Fatalf("Load of a key without expiry = %v, %v, %v; want found with zero expiry", gotExp, found, err)
			}
		})
	}
}

func TestOptions(t *testing.T) {
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"}) // never dialled
	defer c.Close()
	for _, tc := range []struct {
		opts redisstore.Options
		ok   bool
	}{
		{redisstore.Options{}, true},
		{redisstore.Options{Prefix: "app:sess:", UserPrefix: "app:user:"}, true},
		{redisstore.Options{Prefix: "sess:", UserPrefix: "sess:user:"}, false},
		{redisstore.Options{Prefix: "sess-user:x:"}, false},
		{redisstore.Options{Prefix: "s:", UserPrefix: "s:"}, false},
	} {
		_, err := redisstore.New(c, tc.opts)
		if (err == nil) != tc.ok {
			t.Errorf("New(%+v) error = %v; want ok=%v", tc.opts, err, tc.ok)
		}
	}
	if _, err := redisstore.New(nil, redisstore.Options{}); err == nil {
		t.Error("New(nil) succeeded")
	}
}

// TestGlobPrefix checks that a prefix holding SCAN pattern characters
// matches only itself.
func TestGlobPrefix(t *testing.T) {
	c := redistest.Client(t)
	ctx := context.Background()
	p := redistest.Prefix(t, c)
	s, err := redisstore.New(c, redisstore.Options{Prefix: p + "a[b]*?:", UserPrefix: p + "u:"})
	if err != nil {
		t.Fatal(err)
	}
	exp := time.Now().Add(time.Minute)
	if err := s.Save(ctx, "x", []byte("1"), exp); err != nil {
		t.Fatal(err)
	}
	// Keys the unescaped pattern would match.
	for _, k := range []string{p + "ab*?:y", p + "a[b]xx:z"} {
		if err := c.Set(ctx, k, "0", time.Minute).Err(); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := s.Count(ctx); err != nil || n != 1 {
		t.Fatalf("Count = %d, %v; want 1", n, err)
	}
}

// TestUserIndex checks what the conformance suite cannot see: the set's
// expiry follows the latest linked session, and UserSessions removes members
// whose session is gone.
func TestUserIndex(t *testing.T) {
	c := redistest.Client(t)
	ctx := context.Background()
	p := redistest.Prefix(t, c)
	s, err := redisstore.New(c, redisstore.Options{Prefix: p + "sess:", UserPrefix: p + "user:"})
	if err != nil {
		t.Fatal(err)
	}
	set := p + "user:ada"
	now := time.Now()
	a, b := newID(t), newID(t)
	for _, r := range []struct {
		id  string
		exp time.Time
	}{{a, now.Add(time.Hour)}, {b, now.Add(3 * time.Hour)}} {
		if err := s.Save(ctx, r.id, []byte("{}"), r.exp); err != nil {
			t.Fatal(err)
		}
	}
	expAt := func() int64 { return int64(c.PExpireTime(ctx, set).Val() / time.Millisecond) }

	if err := s.LinkUser(ctx, "ada", a, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got, want := expAt(), now.Add(time.Hour).UnixMilli(); got != want {
		t.Fatalf("set expiry after first link = %d; want %d", got, want)
	}
	if err := s.LinkUser(ctx, "ada", b, now.Add(3*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got, want := expAt(), now.Add(3*time.Hour).UnixMilli(); got != want {
		t.Fatalf("set expiry after a later link = %d; want %d (pushed out)", got, want)
	}
	// Relinking a with its earlier expiry must not pull the set's expiry in.
	if err := s.LinkUser(ctx, "ada", a, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got, want := expAt(), now.Add(3*time.Hour).UnixMilli(); got != want {
		t.Fatalf("set expiry after an earlier link = %d; want %d (never shortened)", got, want)
	}
	// An expiry already past links nothing.
	if err := s.LinkUser(ctx, "bob", a, now.Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	if n := c.Exists(ctx, p+"user:bob").Val(); n != 0 {
		t.Fatal("LinkUser with a past expiry created a set")
	}

	if err := s.Delete(ctx, a); err != nil {
		t.Fatal(err)
	}
	ids, err := s.UserSessions(ctx, "ada")
	if err != nil || len(ids) != 1 || ids[0] != b {
		t.Fatalf("UserSessions = %v, %v; want only the live session", ids, err)
	}
	if m := c.SMembers(ctx, set).Val(); len(m) != 1 || m[0] != b {
		t.Fatalf("set members after UserSessions = %d; want the deleted session removed", len(m))
	}
	if err := s.Delete(ctx, b); err != nil {
		t.Fatal(err)
	}
	if ids, err := s.UserSessions(ctx, "ada"); err != nil || len(ids) != 0 {
		t.Fatalf("UserSessions = %v, %v; want none", ids, err)
	}
	if n := c.Exists(ctx, set).Val(); n != 0 {
		t.Fatal("set of a user without sessions still exists; want it gone with its last member")
	}
	if err := s.LinkUser(ctx, "", a, now.Add(time.Hour)); err == nil {
		t.Fatal("LinkUser with an empty user succeeded")
	}
}

// TestOwnership checks that Close closes only a client the store made.
func TestOwnership(t *testing.T) {
	c := redistest.Client(t)
	ctx := context.Background()
	s, err := redisstore.New(c, redisstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatalf("the caller's client after Close: %v; want it open", err)
	}
	if _, _, _, err := s.Load(ctx, "x"); !errors.Is(err, session.ErrClosed) {
		t.Fatalf("Load after Close = %v; want session.ErrClosed", err)
	}

	u := os.Getenv("SESSIONKIT_REDIS_URL")
	if u == "" {
		u = redistest.DefaultURL
	}
	before := runtime.NumGoroutine()
	o, err := redisstore.Open(ctx, u, redisstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := o.Load(ctx, "x"); err != nil {
		t.Fatal(err)
	}
	if err := o.Close(); err != nil {
		t.Fatal(err)
	}
	if err := o.Client().Ping(ctx).Err(); !errors.Is(err, redis.ErrClosed) {
		t.Fatalf("Open's client after Close: ping = %v; want it closed", err)
	}
	if err := o.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	waitGoroutines(t, before)
}

// waitGoroutines fails the test unless the goroutine count falls back to
// before within a few seconds: whatever the store or its client started has
// stopped.
func waitGoroutines(t *testing.T, before int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines left running after Close (%d before Open):\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestOpenCluster opens the Cluster in both URL forms.
func TestOpenCluster(t *testing.T) {
	seeds := redistest.ClusterSeeds(t)
	redistest.Cluster(t) // reachable, or skip/fail with the hint
	ctx := context.Background()
	urls := []string{
		"redis+cluster://" + strings.Join(seeds, ",") + "/",
		"redis://" + seeds[0] + "?addr=" + strings.Join(seeds[1:], "&addr="),
	}
	for _, u := range urls {
		before := runtime.NumGoroutine()
		s, err := redisstore.Open(ctx, u, redisstore.Options{})
		if err != nil {
			t.Fatalf("Open(%s): %v", u, err)
		}
		if _, ok := s.Client().(*redis.ClusterClient); !ok {
			t.Fatalf("Open(%s) made a %T; want a cluster client", u, s.Client())
		}
		if _, err := s.Count(ctx); err != nil {
			t.Fatalf("Count on %s: %v", u, err)
		}
		_ = s.Close()
		waitGoroutines(t, before)
	}
}

// TestOpenErrors checks that errors never echo the password.
func TestOpenErrors(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	const pw = "s3cr%21t-Pa55"
	port := freePort(t)
	for _, u := range []string{
		"redis://user:" + pw + "@127.0.0.1:" + port + "/0?dial_timeout=1s",
		"redis://user:" + pw + "@127.0.0.1:" + port + "/notadb",
		"redis://user:" + pw + "@127.0.0.1:" + port + "/0?bogus=1",
		"redis://user:" + pw + "@127.0.0.1:bad port/0",
		"redis+cluster://user:" + pw + "@127.0.0.1:" + port + ",127.0.0.1:" + port + "/?dial_timeout=1s",
		"redis+cluster://user:" + pw + "@127.0.0.1:" + port + "/3",
		"memcached://user:" + pw + "@127.0.0.1:" + port,
	} {
		s, err := redisstore.Open(ctx, u, redisstore.Options{})
		if err == nil {
			s.Close()
			t.Errorf("Open(%s) succeeded; want an error", redactedForLog(u))
			continue
		}
		for _, leak := range []string{pw, "s3cr!t-Pa55"} {
			if strings.Contains(err.Error(), leak) {
				t.Errorf("Open error %q echoes the password", err)
			}
		}
	}
}

func redactedForLog(u string) string { return strings.ReplaceAll(u, "s3cr%21t-Pa55", "xxxxx") }

func freePort(t testing.TB) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

// TestServerDown stops a private redis-server under a store: every call
// returns an error (no panic), and the same store works again once the server
// is back on the same port.
func TestServerDown(t *testing.T) {
	if _, err := exec.LookPath("redis-server"); err != nil {
		redistest.Unavailable(t, "redis-server is not installed; install redis-server (apt-get install redis-server)")
	}
	port := freePort(t)
	dir := t.TempDir()
	start := func() *exec.Cmd {
		cmd := exec.Command("redis-server", "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	srv := start()
	t.Cleanup(func() { _ = srv.Process.Kill(); _ = srv.Wait() })

	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + port, MaxRetries: -1, DialTimeout: time.Second, ContextTimeoutEnabled: true})
	defer c.Close()
	s, err := redisstore.New(c, redisstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	waitUp := func() {
		for i := 0; ; i++ {
			if s.Ping(ctx) == nil {
				return
			}
			if i == 100 {
				t.Fatal("private redis-server did not answer")
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	waitUp()
	exp := time.Now().Add(time.Minute)
	if err := s.Save(ctx, "a", []byte("1"), exp); err != nil {
		t.Fatal(err)
	}

	_ = srv.Process.Kill()
	_ = srv.Wait()
	calls := map[string]func() error{
		"Load":         func() error { _, _, _, err := s.Load(ctx, "a"); return err },
		"Save":         func() error { return s.Save(ctx, "a", []byte("2"), exp) },
		"Touch":        func() error { return s.Touch(ctx, "a", exp) },
		"Delete":       func() error { return s.Delete(ctx, "a") },
		"Count":        func() error { _, err := s.Count(ctx); return err },
		"Iterate":      func() error { return s.Iterate(ctx, func(session.Record) error { return nil }) },
		"LinkUser":     func() error { return s.LinkUser(ctx, "u", "a", exp) },
		"UnlinkUser":   func() error { return s.UnlinkUser(ctx, "u", "a") },
		"UserSessions": func() error { _, err := s.UserSessions(ctx, "u"); return err },
		"Ping":         func() error { return s.Ping(ctx) },
	}
	for name, call := range calls {
		if err := call(); err == nil {
			t.Errorf("%s with the server down returned no error", name)
		}
	}

	srv = start()
	waitUp()
	if err := s.Save(ctx, "a", []byte("3"), exp); err != nil {
		t.Fatalf("Save after the server came back: %v", err)
	}
	if data, _, found, err := s.Load(ctx, "a"); err != nil || !found || !bytes.Equal(data, []byte("3")) {
		t.Fatalf("Load after the server came back = %q, %v, %v", data, found, err)
	}
}

func ExampleOpen() {
	ctx := context.Background()
	store, err := redisstore.Open(ctx, "redis://127.0.0.1:6379/0", redisstore.Options{})
	if err != nil {
		fmt.Println("redis unavailable")
		return
	}
	defer store.Close()
	// A Node app using connect-redis with its default prefix reads the same
	// key, sess:<id>.
	fmt.Println(store.Prefix())
}
