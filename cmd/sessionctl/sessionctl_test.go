package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"

	"github.com/sessionkit/sessionkit/internal/e2e"
	"github.com/sessionkit/sessionkit/internal/pgtest"
	"github.com/sessionkit/sessionkit/internal/redistest"
	"github.com/sessionkit/sessionkit/middleware"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/stores"
	"github.com/sessionkit/sessionkit/stores/redisstore"
)

// ctl runs sessionctl with args and returns its output and exit status.
func ctl(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var o, e bytes.Buffer
	code = run(args, &o, &e)
	return o.String(), e.String(), code
}

// want fails unless the command exits with code and its standard output
// holds every string of wants.
func want(t *testing.T, code int, wants []string, args ...string) string {
	t.Helper()
	out, errOut, got := ctl(t, args...)
	if got != code {
		t.Fatalf("sessionctl %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", redactArgs(args), got, code, out, errOut)
	}
	for _, w := range wants {
		if !strings.Contains(out, w) {
			t.Fatalf("sessionctl %s: stdout lacks %q:\n%s\nstderr:\n%s", redactArgs(args), w, out, errOut)
		}
	}
	return out
}

func redactArgs(args []string) string {
	r := make([]string, len(args))
	for i, a := range args {
		r[i] = stores.Redact(a)
	}
	return strings.Join(r, " ")
}

func openStore(t *testing.T, raw string) session.Store {
	t.Helper()
	st, err := stores.Open(context.Background(), raw)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func closeStore(t *testing.T, st session.Store) {
	t.Helper()
	if err := st.(io.Closer).Close(); err != nil {
		t.Fatal(err)
	}
}

// doc is a session document as the JSON codec writes it, with a user.
func doc(i int) []byte {
	return fmt.Appendf(nil, `{"cookie":{"originalMaxAge":3600000,"expires":"2030-01-01T00:00:00.000Z","httpOnly":true,"path":"/"},"user_id":"u%d","n":%d}`, i%7, i)
}

// seed saves live sessions (expiring in about an hour, at distinct
// instants) and short-lived ones that have expired when seed returns.
func seed(t *testing.T, raw string, live, expired int) map[string]time.Time {
	t.Helper()
	st := openStore(t, raw)
	defer closeStore(t, st)
	ctx := context.Background()
	ids := make(map[string]time.Time, live)
	var mu sync.Mutex
	base := time.Now().Add(time.Hour).Truncate(time.Second)
	work := make(chan int)
	errc := make(chan error, 8)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for i := range work {
				id := session.NewID()
				exp := base.Add(time.Duration(i) * time.Second)
				if i >= live {
					exp = time.Now().Add(1100 * time.Millisecond)
				}
				if err := st.Save(ctx, id, doc(i), exp); err != nil {
					errc <- err
					return
				}
				if i < live {
					mu.Lock()
					ids[id] = exp
					mu.Unlock()
				}
			}
		})
	}
	for i := range live + expired {
		work <- i
	}
	close(work)
	wg.Wait()
	select {
	case err := <-errc:
		t.Fatal(err)
	default:
	}
	if expired > 0 {
		// PostgreSQL keeps whole seconds, rounded up.
		time.Sleep(2100 * time.Millisecond)
	}
	return ids
}

var backends = []struct {
	name string
	url  func(testing.TB) string
}{
	{"postgres", e2e.PostgresURL},
	{"redis", e2e.RedisURL},
	{"bbolt", e2e.BboltURL},
	{"mysql", e2e.MySQLURL},
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{
		nil, {"frobnicate"}, {"check"}, {"count", "a", "b"}, {"migrate", "--from", "memory://"},
		{"migrate", "--from", "bbolt://x.db", "--to", "bbolt://./x.db"}, {"prune", "--batch", "0", "memory://"},
		{"cookie"}, {"cookie", "eat"}, {"schema"}, {"schema", "a", "b"},
	} {
		if _, _, code := ctl(t, args...); code != exitUsage {
			t.Errorf("sessionctl %q: exit %d, want %d", args, code, exitUsage)
		}
	}
	_, errOut, code := ctl(t, "check", "nosuch://u:pw-S3CRET@h/db")
	if code != exitDeviation || strings.Contains(errOut, "S3CRET") {
		t.Errorf("check of an unknown scheme: exit %d, %s", code, errOut)
	}
	src := e2e.BboltURL(t)
	seed(t, src, 1, 0)
	for _, args := range [][]string{
		{"migrate", "--from", src, "--to", "redis://:pw-S3CRET@127.0.0.1:1/0?dial_timeout=200ms"},
		{"migrate", "--from", src, "--to", "postgres://u:pw-S3CRET@127.0.0.1:1/db?connect_timeout=1"},
		{"count", "postgres://u:pw-S3CRET@127.0.0.1:1/db?connect_timeout=1"},
		{"cookie", "verify", "--secret", "x", "--store", "redis://:pw-S3CRET@127.0.0.1:1/0?dial_timeout=200ms", "s:a.b"},
	} {
		out, errOut, code := ctl(t, args...)
		if code == exitOK || strings.Contains(out+errOut, "S3CRET") {
			t.Errorf("sessionctl %s: exit %d, output shows the password:\n%s%s", args[0], code, out, errOut)
		}
	}
	out, _, _ := ctl(t, "check", "nosuch://u:pw-S3CRET@h/db")
	if !strings.Contains(out, "known schemes are bbolt") || strings.Contains(out, "S3CRET") {
		t.Errorf("check of an unknown scheme says %q", out)
	}
}

// TestSchema prints each SQL store's table from its URL alone, through the
// registry: nothing listens on these ports, so no connection is made.
func TestSchema(t *testing.T) {
	want(t, 0, []string{`CREATE TABLE IF NOT EXISTS "app"."web"`, `"IDX_web_expire"`, `"sess" json NOT NULL`},
		"schema", "postgres://u:pw@127.0.0.1:1/db?table=web&schema=app")
	want(t, 0, []string{"CREATE TABLE IF NOT EXISTS `web`", "`expires`"},
		"schema", "mysql://u:pw@127.0.0.1:1/db?table=web")
	for _, u := range []string{"redis://127.0.0.1:1/0", "memory://"} {
		if out, errOut, code := ctl(t, "schema", u); code == exitOK || !strings.Contains(out+errOut, "no schema") {
			t.Errorf("sessionctl schema %s: exit %d, %q %q; want a failure saying the store has no schema", u, code, out, errOut)
		}
	}
}

func TestCookie(t *testing.T) {
	const worked = "s%3Aabc.BpxCrWRpvZMh%2Fwk%2Fdjl34N%2Bm%2BVQEU7K%2F5WenLwJCgFU"
	// Signing refuses a short secret, as the middleware does; verifying
	// accepts one, which a fleet may still have.
	if out, errOut, code := ctl(t, "cookie", "sign", "--secret", "keyboard cat", "abc"); code != exitUsage || out != "" || !strings.Contains(errOut, "at least 32 bytes") {
		t.Errorf("cookie sign with a 12-byte secret: exit %d, stdout %q, stderr %q; want a usage error naming 32 bytes", code, out, errOut)
	}
	long := strings.Repeat("0123456789abcdef", 2)
	want(t, 0, []string{middleware.Sign("abc", long)}, "cookie", "sign", "--secret", long, "abc")
	out := want(t, 0, []string{"valid, signed with secret #2", "log hash " + session.LogID("abc")},
		"cookie", "verify", "--secret", "new secret", "--secret", "keyboard cat", worked)
	if strings.Contains(out, "abc") {
		t.Errorf("verify showed the ID without --show-id: %s", out)
	}
	want(t, 0, []string{"id abc,"}, "cookie", "verify", "--secret", "keyboard cat", "--show-id", worked)
	want(t, 1, []string{"matches none of the 1 secret(s)"}, "cookie", "verify", "--secret", "other", worked)
	want(t, 1, []string{"not signed"}, "cookie", "verify", "--secret", "keyboard cat", "abc")
	want(t, 1, []string{"malformed"}, "cookie", "verify", "--secret", "keyboard cat", "s:abc")
	// A browser's Cookie header carries other sites' cookies too: without
	// --name the signed ones are checked and the others skipped.
	browser := "Cookie: _ga=GA1.2.1234567890.1700000000; connect.sid=" + worked + "; theme=dark; csrftoken=Zm9vYmFy"
	out = want(t, 0, []string{"ok: cookie connect.sid: valid", "skipped 3 unsigned cookies: _ga, theme, csrftoken"},
		"cookie", "verify", "--secret", "keyboard cat", browser)
	if strings.Contains(out, "error") {
		t.Errorf("verify of a browser header reports an error:\n%s", out)
	}
	want(t, 1, []string{"error: no signed cookie in the header (cookies: _ga, theme)"},
		"cookie", "verify", "--secret", "keyboard cat", "Cookie: _ga=GA1.2.3; theme=dark")
	want(t, 1, []string{"error: cookie session: not signed"},
		"cookie", "verify", "--secret", "keyboard cat", "--name", "session", "connect.sid="+worked+"; session=plain")
	want(t, 0, []string{"ok: cookie connect.sid: valid"},
		"cookie", "verify", "--secret", "keyboard cat", "--name", "connect.sid", "connect.sid="+worked+"; session=plain")

	t.Setenv("SESSION_SECRET", long)
	signed := strings.TrimSpace(want(t, 0, nil, "cookie", "sign"))
	id, ok := middleware.Verify(signed, []string{long})
	if !ok || len(id) != 32 {
		t.Fatalf("cookie sign without an ID gave %q", signed)
	}

	// With --store, the session is looked up.
	raw := e2e.BboltURL(t)
	st := openStore(t, raw)
	if err := st.Save(context.Background(), id, doc(1), time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	closeStore(t, st)
	want(t, 0, []string{"live in the store until"}, "cookie", "verify", "--store", raw, signed)
	want(t, 1, []string{"no live session with this ID"}, "cookie", "verify", "--store", raw, middleware.Sign("gone", long))
}

// TestHelp checks that every command's -h explains its URL argument, with
// every form the registry opens.
func TestHelp(t *testing.T) {
	for _, args := range [][]string{
		{"check", "-h"}, {"count", "-h"}, {"prune", "-h"}, {"migrate", "-h"}, {"revoke", "--help"},
		{"cookie", "verify", "-h"}, {"help"},
	} {
		out, errOut, code := ctl(t, args...)
		help := out + errOut
		if code != exitOK {
			t.Errorf("sessionctl %s: exit %d, want 0", strings.Join(args, " "), code)
		}
		for _, w := range []string{"postgres://", "redis://", "rediss://", "redis+cluster://", "redis+sentinel://", "master_name", "bbolt:///", "memory://", "usage: sessionctl"} {
			if !strings.Contains(help, w) {
				t.Errorf("sessionctl %s does not mention %q:\n%s", strings.Join(args, " "), w, help)
			}
		}
		if strings.Contains(help, "help requested") {
			t.Errorf("sessionctl %s reports help as an error:\n%s", strings.Join(args, " "), help)
		}
	}
}

func TestCheckCountPrune(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			raw := b.url(t)
			expired := 3
			if b.name == "redis" {
				expired = 0 // Redis deletes them itself
			}
			live := seed(t, raw, 5, expired)
			out := want(t, 0, []string{"info: 5 live sessions", "info: expiries from"}, "check", raw)
			if strings.Contains(out, "warning") || strings.Contains(out, "error") {
				t.Errorf("a healthy store has findings:\n%s", out)
			}
			if b.name != "redis" {
				want(t, 0, []string{"3 expired"}, "check", raw)
			}
			want(t, 0, []string{"5\n"}, "count", raw)
			if b.name == "redis" {
				want(t, 0, []string{"pruned 0: the redis store does not prune on demand"}, "prune", raw)
			} else {
				want(t, 0, []string{"pruned 3 expired sessions"}, "prune", "--batch", "2", raw)
				want(t, 0, []string{"pruned 0 expired sessions"}, "prune", raw)
				want(t, 0, []string{"0 expired"}, "check", raw)
			}
			want(t, 0, []string{"5\n"}, "count", raw)
			if len(live) != 5 {
				t.Fatalf("seeded %d", len(live))
			}
		})
	}
}

func TestCheckPostgresDeviations(t *testing.T) {
	pool := pgtest.Pool(t, nil)
	schema := pgtest.Schema(t, pool)
	ctx := context.Background()
	tbl := pgx.Identifier{schema, "session"}.Sanitize()
	// connect-pg-simple's table, without the expire index.
	if _, err := pool.Exec(ctx, `CREATE TABLE `+tbl+` ("sid" varchar NOT NULL COLLATE "default", "sess" json NOT NULL, "expire" timestamp(6) NOT NULL, CONSTRAINT session_pkey PRIMARY KEY (sid))`); err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(pgtest.URL())
	q := u.Query()
	q.Set("schema", schema)
	u.RawQuery = q.Encode()
	out := want(t, 1, []string{`warning: no index on "expire"`, "info: server TimeZone"}, "check", u.String())
	if strings.Count(out, "\n") < 4 {
		t.Errorf("expected one line per finding:\n%s", out)
	}
	// A table that is not there is reported, not created.
	q.Set("table", "absent")
	q.Set("create_table", "true")
	u.RawQuery = q.Encode()
	want(t, 1, []string{"error: cannot open the store"}, "check", u.String())
	var exists bool
	if err := pool.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, pgx.Identifier{schema, "absent"}.Sanitize()).Scan(&exists); err != nil || exists {
		t.Errorf("check created the table (%v, %v)", exists, err)
	}
}

func TestCheckRedisWithoutTTL(t *testing.T) {
	raw := e2e.RedisURL(t)
	seed(t, raw, 2, 0)
	prefix := openStore(t, raw).(*redisstore.Store).Prefix()
	c := redistest.Client(t)
	if err := c.Set(context.Background(), prefix+"forever", `{"cookie":{}}`, 0).Err(); err != nil {
		t.Fatal(err)
	}
	want(t, 1, []string{"warning: 1 session keys have no expiry", "2 live sessions", "ok: connected to Redis"}, "check", raw)
	// migrate copies the two live ones and says why the third stays behind.
	want(t, 0, []string{"copied 2,", "warning: 1 source sessions have no expiry and were not copied", "verified 2 of 2"},
		"migrate", "--from", raw, "--to", e2e.BboltURL(t))
}

func TestCheckSentinel(t *testing.T) {
	raw := setParam(redistest.SentinelURL(t), "prefix", "sktest:"+session.NewID()+":")
	found := fmt.Sprintf("found through Sentinel as %q", query(raw).Get("master_name"))
	want(t, exitOK, []string{"ok: connected to Redis", found, "0 live sessions"}, "check", raw)
	want(t, exitOK, []string{"0"}, "count", raw)
}

func TestCheckBbolt(t *testing.T) {
	raw := e2e.BboltURL(t)
	seed(t, raw, 4, 0)
	want(t, 0, []string{"every page of the file is consistent", "4 live sessions"}, "check", raw)

	st := openStore(t, raw)
	want(t, 1, []string{"locked by another process"}, "check", raw+"&open_timeout=100ms")
	closeStore(t, st)

	// Twice: the first check must not have created the buckets.
	for range 2 {
		want(t, 1, []string{`holds no sessions under bucket "other"`}, "check", raw+"&bucket=other")
	}

	junk := filepath.Join(t.TempDir(), "junk.db")
	if err := os.WriteFile(junk, bytes.Repeat([]byte("not a database "), 1000), 0o600); err != nil {
		t.Fatal(err)
	}
	want(t, 1, []string{"error: cannot open the store"}, "check", "bbolt://"+junk)
	want(t, 1, []string{"no such file"}, "check", "bbolt://"+filepath.Join(t.TempDir(), "missing.db"))
}

// TestMigrate copies a few thousand sessions between every pair of real
// backends that an operator would move between, then resumes.
func TestMigrate(t *testing.T) {
	const n = 2000
	pairs := []struct{ from, to int }{{1, 0}, {2, 0}, {0, 1}, {0, 2}, {2, 3}, {3, 2}}
	for _, p := range pairs {
		from, to := backends[p.from], backends[p.to]
		t.Run(from.name+"-to-"+to.name, func(t *testing.T) {
			src, dst := from.url(t), to.url(t)
			ids := seed(t, src, n, 0)

			// Copy a quarter first, as an interrupted earlier run would have.
			ds := openStore(t, dst)
			i := 0
			for id, exp := range ids {
				if i++; i > n/4 {
					break
				}
				if err := ds.Save(context.Background(), id, doc(-1), exp); err != nil {
					t.Fatal(err)
				}
			}
			// One identical already (data and expiry): skipped as present.
			for id, exp := range ids {
				st := openStore(t, src)
				data, _, _, _ := st.Load(context.Background(), id)
				closeStore(t, st)
				if err := ds.Save(context.Background(), id, data, exp); err != nil {
					t.Fatal(err)
				}
				break
			}
			closeStore(t, ds)

			want(t, 0, []string{
				fmt.Sprintf("migrating %d sessions", n),
				fmt.Sprintf("copied %d, already present 1,", n-1),
				fmt.Sprintf("verified %d of %d live source sessions", n, n),
			}, "migrate", "--from", src, "--to", dst, "--workers", "4")
			want(t, 0, []string{fmt.Sprintf("copied 0, already present %d,", n), fmt.Sprintf("verified %d of %d", n, n)},
				"migrate", "--to", dst, "--from", src)

			ds = openStore(t, dst)
			defer closeStore(t, ds)
			ss := openStore(t, src)
			defer closeStore(t, ss)
			for id, exp := range ids {
				a, _, _, _ := ss.Load(context.Background(), id)
				b, got, found, err := ds.Load(context.Background(), id)
				if err != nil || !found || !bytes.Equal(a, b) || !sameExpiry(got, exp) {
					t.Fatalf("session %s: found %v, %v, expiry %v want %v", session.LogID(id), found, err, got, exp)
				}
			}
			if ui, ok := ds.(session.UserIndex); ok {
				users, err := ui.UserSessions(context.Background(), "u3")
				if err != nil || len(users) < n/7-1 {
					t.Errorf("user u3 has %d sessions at the destination (%v), want about %d", len(users), err, n/7)
				}
			}
			if c, ok := ds.(session.Counter); ok {
				if got, err := c.Count(context.Background()); err != nil || got != n {
					t.Errorf("destination count %d, %v; want %d", got, err, n)
				}
			}
		})
	}
}

func TestMigrateReportsDifferences(t *testing.T) {
	src := e2e.BboltURL(t)
	ids := seed(t, src, 50, 0)
	dst := "memory://"
	// memory:// is empty in each process, so every run copies everything;
	// a source the destination cannot hold must fail, naming no ID.
	want(t, 0, []string{"copied 50", "verified 50 of 50"}, "migrate", "--from", src, "--to", dst)
	pg := e2e.PostgresURL(t)
	st := openStore(t, src)
	for id := range ids {
		if err := st.Save(context.Background(), id, []byte("\x00gob bytes"), time.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		break
	}
	closeStore(t, st)
	out, errOut, code := ctl(t, "migrate", "--from", src, "--to", pg)
	if code != exitDeviation || !strings.Contains(out, "run the same command again to resume") {
		t.Fatalf("migrating non-JSON data into PostgreSQL: exit %d\n%s\n%s", code, out, errOut)
	}
	for id := range ids {
		if strings.Contains(errOut, id) {
			t.Fatalf("an error shows a session ID: %s", errOut)
		}
	}
}

// TestMigrateTiming copies SESSIONKIT_MIGRATE_BENCH sessions (100000 when
// set to "1") from Redis and from bbolt into PostgreSQL and logs how long
// each pass took; SESSIONKIT_MIGRATE_WORKERS sets --workers. It is a
// measurement, not part of the normal suite:
//
//	SESSIONKIT_MIGRATE_BENCH=1 go test -run TestMigrateTiming -v ./cmd/sessionctl
func TestMigrateTiming(t *testing.T) {
	v := os.Getenv("SESSIONKIT_MIGRATE_BENCH")
	if v == "" {
		t.Skip("set SESSIONKIT_MIGRATE_BENCH=1 (or a session count) to time migrate with 100000 sessions")
	}
	n := 100000
	if v != "1" {
		if _, err := fmt.Sscan(v, &n); err != nil || n < 1 {
			t.Fatalf("SESSIONKIT_MIGRATE_BENCH=%q", v)
		}
	}
	for _, from := range backends[1:] {
		t.Run(from.name+"-to-postgres", func(t *testing.T) {
			src, dst := from.url(t), e2e.PostgresURL(t)
			if from.name == "redis" {
				c := redistest.Client(t)
				t.Cleanup(func() { unlinkPrefix(t, c, query(src).Get("prefix")) })
			}
			start := time.Now()
			seed(t, src, n, 0)
			t.Logf("seeded %d sessions in %s in %v", n, from.name, time.Since(start).Round(time.Millisecond))
			start = time.Now()
			args := []string{"migrate", "--from", src, "--to", dst}
			if w := os.Getenv("SESSIONKIT_MIGRATE_WORKERS"); w != "" {
				args = append(args, "--workers", w)
			}
			out := want(t, 0, []string{fmt.Sprintf("verified %d of %d", n, n)}, args...)
			t.Logf("sessionctl migrate %s -> postgres, %d sessions: %v in all\n%s", from.name, n, time.Since(start).Round(time.Millisecond), out)
			start = time.Now()
			out = want(t, 0, []string{fmt.Sprintf("already present %d", n)}, "migrate", "--from", src, "--to", dst, "--no-verify")
			t.Logf("resumed run, nothing left to copy: %v\n%s", time.Since(start).Round(time.Millisecond), out)
		})
	}
}

// unlinkPrefix deletes the keys under prefix in pipelined batches: the
// one-key-at-a-time cleanup of redistest is too slow for 100000 keys.
func unlinkPrefix(t *testing.T, c *redis.Client, prefix string) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	iter := c.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	var batch []string
	flush := func() {
		if len(batch) > 0 {
			if err := c.Unlink(ctx, batch...).Err(); err != nil {
				t.Logf("unlink: %v", err)
			}
			batch = batch[:0]
		}
	}
	for iter.Next(ctx) {
		if batch = append(batch, iter.Val()); len(batch) == 1000 {
			flush()
		}
	}
	flush()
	if err := iter.Err(); err != nil {
		t.Logf("scan: %v", err)
	}
}

// TestUnknownParameter checks that every command refuses a URL parameter no
// store knows exactly as stores.Open does, for every registered scheme: a
// misspelt parameter must never fall back to a default silently (count once
// printed 0 for a bbolt URL whose bucket= was misspelt).
func TestUnknownParameter(t *testing.T) {
	pg := e2e.PostgresURL(t)
	bolt := e2e.BboltURL(t)
	seed(t, bolt, 1, 0)
	cut := func(raw, scheme string) string { _, rest, _ := strings.Cut(raw, "://"); return scheme + "://" + rest }
	samples := map[string]string{
		"postgres":        pg,
		"postgresql":      cut(pg, "postgresql"),
		"redis":           e2e.RedisURL(t),
		"rediss":          "rediss://127.0.0.1:6379/0?dial_timeout=200ms",
		"redis+cluster":   "redis+cluster://127.0.0.1:7000,127.0.0.1:7001?dial_timeout=200ms",
		"rediss+cluster":  "rediss+cluster://127.0.0.1:7000,127.0.0.1:7001?dial_timeout=200ms",
		"redis+sentinel":  "redis+sentinel://127.0.0.1:7200,127.0.0.1:7201?master_name=mymaster&dial_timeout=200ms",
		"rediss+sentinel": "rediss+sentinel://127.0.0.1:7200?master_name=mymaster&dial_timeout=200ms",
		"bbolt":           bolt,
		"memory":          "memory://?prune_interval=off",
		"mysql":           e2e.MySQLURL(t),
	}
	for _, scheme := range stores.Schemes() {
		t.Run(scheme, func(t *testing.T) {
			base, ok := samples[scheme]
			if !ok {
				t.Fatalf("no sample URL for scheme %s: add one to this test", scheme)
			}
			raw := base + "&buckt=x"
			if !strings.Contains(base, "?") {
				raw = base + "?buckt=x"
			}
			st, err := stores.Open(context.Background(), raw)
			if err == nil {
				closeStore(t, st)
				t.Fatalf("stores.Open accepted the unknown parameter buckt")
			}
			// The cause, not the whole text: a PostgreSQL server refuses an
			// unknown parameter when the store first connects, which is a
			// different step when the store may not create its table.
			cause := err
			for errors.Unwrap(cause) != nil {
				cause = errors.Unwrap(cause)
			}
			if !strings.Contains(cause.Error(), "buckt") {
				t.Fatalf("stores.Open fails for a reason that does not name buckt: %v", err)
			}
			for _, args := range [][]string{
				{"count", raw}, {"check", raw}, {"prune", raw}, {"revoke", "--user", "u", raw},
				{"migrate", "--from", raw, "--to", "memory://"}, {"migrate", "--from", "memory://", "--to", raw},
				{"cookie", "verify", "--secret", "keyboard cat", "--store", raw, middleware.Sign("a", "keyboard cat")},
			} {
				out, errOut, code := ctl(t, args...)
				if code == exitOK || !strings.Contains(out+errOut, cause.Error()) {
					t.Errorf("sessionctl %s: exit %d, output\n%s%s\nwant a failure saying, as stores.Open does:\n%v", args[0], code, out, errOut, cause)
				}
			}
		})
	}
}

// query returns the query parameters of rawURL, read from its text.
func query(rawURL string) url.Values {
	_, q, _ := strings.Cut(rawURL, "?")
	q, _, _ = strings.Cut(q, "#")
	v, _ := url.ParseQuery(q)
	return v
}

// setParam sets the query parameter key of rawURL to value.
func setParam(rawURL, key, value string) string {
	base, q, _ := strings.Cut(rawURL, "?")
	q, frag, hasFrag := strings.Cut(q, "#")
	v, _ := url.ParseQuery(q)
	if v == nil {
		v = url.Values{}
	}
	v.Set(key, value)
	out := base + "?" + v.Encode()
	if hasFrag {
		out += "#" + frag
	}
	return out
}
