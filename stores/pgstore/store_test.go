package pgstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sessionkit/sessionkit/internal/pgtest"
	"github.com/sessionkit/sessionkit/session"
)

func TestRoundTripKeepsBytesAndNodeShape(t *testing.T) {
	e := newEnv(t)
	s := e.store(t, Options{})
	ctx := t.Context()
	// Spacing and key order are kept byte for byte: the json column stores
	// text, and Node parses whatever is there.
	data := []byte(`{"cookie":{"originalMaxAge":86400000,"expires":"2030-01-01T00:00:00.000Z","httpOnly":true,"path":"/"},  "z":1,"a":{"n":[1,2]}}`)
	exp := time.Now().Add(90 * time.Minute).Add(300 * time.Millisecond)
	if err := s.Save(ctx, "abc", data, exp); err != nil {
		t.Fatal(err)
	}
	got, gotExp, found, err := s.Load(ctx, "abc")
	if err != nil || !found {
		t.Fatalf("Load = found %v, err %v", found, err)
	}
	if string(got) != string(data) {
		t.Errorf("Load data = %s; want the saved bytes %s", got, data)
	}
	if want := time.Unix(unixCeil(exp), 0); !gotExp.Equal(want) {
		t.Errorf("Load expiry = %v; want %v (rounded up to the second)", gotExp, want)
	}
	// What Node reads: the row holds the seconds connect-pg-simple would
	// write, through to_timestamp.
	var same bool
	if err := e.pool.QueryRow(ctx, `SELECT "expire" = to_timestamp($1) FROM `+s.Table()+` WHERE "sid" = 'abc'`, unixCeil(exp)).Scan(&same); err != nil || !same {
		t.Errorf("expire = to_timestamp(ceil(ms/1000)): %v, err %v", same, err)
	}
}

func TestUnixCeil(t *testing.T) {
	for _, c := range []struct {
		ms   int64
		want int64
	}{{0, 0}, {1, 1}, {999, 1}, {1000, 1}, {1001, 2}, {-1, 0}, {-1000, -1}, {-1500, -1}} {
		if got := unixCeil(time.UnixMilli(c.ms)); got != c.want {
			t.Errorf("unixCeil(%dms) = %d; want %d", c.ms, got, c.want)
		}
	}
	// Sub-millisecond parts are dropped first, as Date.now() has none.
	if got := unixCeil(time.Unix(10, 500)); got != 10 {
		t.Errorf("unixCeil(10s+500ns) = %d; want 10", got)
	}
}

func TestTouchAndDelete(t *testing.T) {
	e := newEnv(t)
	s := e.store(t, Options{})
	ctx := t.Context()
	data := []byte(`{"cookie":{}}`)
	if err := s.Save(ctx, "t", data, hour()); err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(5 * time.Hour)
	if err := s.Touch(ctx, "t", later); err != nil {
		t.Fatal(err)
	}
	_, exp, _, _ := s.Load(ctx, "t")
	if !exp.Equal(time.Unix(unixCeil(later), 0)) {
		t.Errorf("after Touch expiry = %v; want %v", exp, later)
	}
	// Touch creates nothing and does not revive an expired row.
	if err := s.Touch(ctx, "missing", later); err != nil {
		t.Fatal(err)
	}
	e.exec(t, `INSERT INTO `+s.Table()+` VALUES ('old', '{"cookie":{}}', to_timestamp($1))`, time.Now().Add(-time.Hour).Unix())
	if err := s.Touch(ctx, "old", later); err != nil {
		t.Fatal(err)
	}
	var n int
	e.pool.QueryRow(ctx, `SELECT count(*) FROM `+s.Table()+` WHERE "expire" >= now()::timestamp - interval '1 minute' AND "sid" IN ('missing', 'old')`).Scan(&n)
	if n != 0 {
		t.Errorf("Touch created or revived %d rows", n)
	}
	if _, _, found, _ := s.Load(ctx, "old"); found {
		t.Error("expired row loaded after Touch")
	}
	for range 2 {
		if err := s.Delete(ctx, "t"); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, found, _ := s.Load(ctx, "t"); found {
		t.Error("found after Delete")
	}
}

func TestCheckCodec(t *testing.T) {
	s := &Store{}
	if err := s.CheckCodec(namedCodec("json")); err != nil {
		t.Errorf("json codec refused: %v", err)
	}
	for _, name := range []string{"gob", "JSON", ""} {
		err := s.CheckCodec(namedCodec(name))
		if err == nil || !errors.Is(err, session.ErrUnsupported) || !strings.Contains(err.Error(), "json codec") {
			t.Errorf("codec %q: err = %v; want a clear error wrapping ErrUnsupported", name, err)
		}
	}
	if err := s.CheckCodec(nil); err == nil {
		t.Error("nil codec accepted")
	}
}

type namedCodec string

func (c namedCodec) Name() string                              { return string(c) }
func (namedCodec) Encode(*session.State) ([]byte, error)       { return nil, nil }
func (namedCodec) Decode(data []byte, st *session.State) error { return nil }

func TestConcurrentCreate(t *testing.T) {
	e := newEnv(t)
	const n = 20
	var (
		wg     sync.WaitGroup
		start  = make(chan struct{})
		errs   = make([]error, n)
		stores = make([]*Store, n)
	)
	for i := range n {
		wg.Go(func() {
			<-start
			stores[i], errs[i] = New(t.Context(), e.pool, Options{Schema: e.schema, CreateTable: true, PruneInterval: -1})
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("store %d: %v", i, err)
			continue
		}
		defer stores[i].Close()
	}
	var tables, indexes int
	e.pool.QueryRow(t.Context(), `SELECT count(*) FROM pg_tables WHERE schemaname = $1`, e.schema).Scan(&tables)
	e.pool.QueryRow(t.Context(), `SELECT count(*) FROM pg_indexes WHERE schemaname = $1`, e.schema).Scan(&indexes)
	if tables != 1 || indexes != 2 {
		t.Errorf("schema has %d tables and %d indexes; want 1 and 2 (pkey, expire)", tables, indexes)
	}
	if errs[0] == nil {
		if err := stores[0].Save(t.Context(), "x", []byte(`{"cookie":{}}`), hour()); err != nil {
			t.Errorf("Save on the created table: %v", err)
		}
	}
}

func TestExistingTableUsedAsIs(t *testing.T) {
	e := newEnv(t)
	tbl := pgx.Identifier{e.schema, "session"}.Sanitize()
	// A Node-created table (connect-pg-simple's table.sql), plus a column
	// of the app's own.
	e.exec(t, `CREATE TABLE `+tbl+` ("sid" varchar NOT NULL COLLATE "default", "sess" json NOT NULL, "expire" timestamp(6) NOT NULL, "note" text) WITH (OIDS=FALSE)`)
	e.exec(t, `ALTER TABLE `+tbl+` ADD CONSTRAINT "session_pkey" PRIMARY KEY ("sid") NOT DEFERRABLE INITIALLY IMMEDIATE`)
	e.exec(t, `CREATE INDEX "IDX_session_expire" ON `+tbl+` ("expire")`)
	s := e.store(t, Options{})
	var indexes int
	e.pool.QueryRow(t.Context(), `SELECT count(*) FROM pg_indexes WHERE schemaname = $1`, e.schema).Scan(&indexes)
	if indexes != 2 {
		t.Errorf("indexes = %d; want the 2 Node made, none added to an existing table", indexes)
	}
	if err := s.Save(t.Context(), "n", []byte(`{"cookie":{}}`), hour()); err != nil {
		t.Fatal(err)
	}
}

func TestMissingTable(t *testing.T) {
	e := newEnv(t)
	_, err := New(t.Context(), e.pool, Options{Schema: e.schema})
	// The hint names what an operator can act on: the URL parameter and
	// the command that prints the SQL, not only a Go identifier.
	for _, want := range []string{"does not exist", "create_table=true", "sessionctl schema"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("New on a missing table: err = %v; want it to say %q", err, want)
		}
	}
	if _, err := New(t.Context(), nil, Options{}); err == nil {
		t.Error("New(nil pool) succeeded")
	}
}

func TestQuotedNames(t *testing.T) {
	e := newEnv(t)
	s := e.store(t, Options{Table: `my "odd" table`, UserKey: `it's\`, UserIndex: true})
	ctx := t.Context()
	if err := s.Save(ctx, "q", []byte(`{"cookie":{},"it's\\":"u1"}`), hour()); err != nil {
		t.Fatal(err)
	}
	if _, _, found, err := s.Load(ctx, "q"); !found || err != nil {
		t.Fatalf("Load = %v, %v", found, err)
	}
	ids, err := s.UserSessions(ctx, "u1")
	if err != nil || len(ids) != 1 {
		t.Errorf("UserSessions = %v, %v; want [q]", ids, err)
	}
	var names []string
	rows, _ := e.pool.Query(ctx, `SELECT indexname FROM pg_indexes WHERE schemaname = $1 ORDER BY 1`, e.schema)
	names, _ = pgx.CollectRows(rows, pgx.RowTo[string])
	want := []string{`IDX_my "odd" table_expire`, `IDX_my "odd" table_user`, `my "odd" table_pkey`}
	if fmt.Sprint(names) != fmt.Sprint(want) {
		t.Errorf("indexes = %q; want %q", names, want)
	}
	if _, err := New(ctx, e.pool, Options{Table: "a\x00b"}); err == nil {
		t.Error("NUL in Table accepted")
	}
}

func TestSchemaText(t *testing.T) {
	sql, err := Schema(Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`CREATE TABLE IF NOT EXISTS "session" (`,
		`"sid" varchar NOT NULL COLLATE "default"`,
		`"sess" json NOT NULL`,
		`"expire" timestamp(6) NOT NULL`,
		`CONSTRAINT "session_pkey" PRIMARY KEY ("sid")`,
		`CREATE INDEX IF NOT EXISTS "IDX_session_expire" ON "session" ("expire")`,
		`("sess" ->> E'user_id')`,
	} {
		if !strings.Contains(sql, want) {
			t.Errorf("Schema lacks %s:\n%s", want, sql)
		}
	}
	sql, _ = Schema(Options{Schema: "app", Table: "sessions"})
	if !strings.Contains(sql, `"app"."sessions"`) || !strings.Contains(sql, `"IDX_sessions_expire"`) || !strings.Contains(sql, `"sessions_pkey"`) {
		t.Errorf("Schema with schema and table:\n%s", sql)
	}
}

func TestUserSessions(t *testing.T) {
	for _, indexed := range []bool{false, true} {
		t.Run(fmt.Sprintf("index=%v", indexed), func(t *testing.T) {
			e := newEnv(t)
			s := e.store(t, Options{UserIndex: indexed})
			ctx := t.Context()
			for id, data := range map[string]string{
				"a1":    `{"cookie":{},"user_id":"ann"}`,
				"b1":    `{"cookie":{},"user_id":"bob"}`,
				"n1":    `{"cookie":{},"user_id":42}`,
				"none":  `{"cookie":{}}`,
				"null":  `{"cookie":{},"user_id":null}`,
				"arr":   `[1,2]`,
				"str":   `"ann"`,
				"other": `{"cookie":{},"uid":"ann"}`,
			} {
				if err := s.Save(ctx, id, []byte(data), hour()); err != nil {
					t.Fatalf("Save %s: %v", id, err)
				}
			}
			e.exec(t, `INSERT INTO `+s.Table()+` VALUES ('a-old', '{"cookie":{},"user_id":"ann"}', to_timestamp($1))`, time.Now().Add(-time.Hour).Unix())
			// PostgreSQL cannot read a document holding \u0000 as text:
			// with the index such a session cannot be saved; without it,
			// it is saved and UserSessions still works, by a slower path.
			err := s.Save(ctx, "a2", []byte(`{"cookie":{},"user_id":"ann","x":"\u0000"}`), hour())
			if indexed {
				if SQLState(err) != "22P05" {
					t.Errorf("Save of \\u0000 with the user index: err = %v; want SQLSTATE 22P05", err)
				}
			} else if err != nil {
				t.Fatalf("Save of \\u0000 without the user index: %v", err)
			}
			wantAnn := "[a1 a2]"
			if indexed {
				wantAnn = "[a1]"
			}
			for user, want := range map[string]string{"ann": wantAnn, "bob": "[b1]", "42": "[n1]", "zed": "[]"} {
				ids, err := s.UserSessions(ctx, user)
				if err != nil {
					t.Fatalf("UserSessions(%s): %v", user, err)
				}
				if got := fmt.Sprint(sorted(ids)); got != want {
					t.Errorf("UserSessions(%s) = %s; want %s", user, got, want)
				}
			}
			// LinkUser is a no-op: the user comes from sess.
			if err := s.LinkUser(ctx, "zed", "none", hour()); err != nil {
				t.Fatal(err)
			}
			if err := s.UnlinkUser(ctx, "ann", "a1"); err != nil {
				t.Fatal(err)
			}
			if !indexed {
				return
			}
			tx, err := e.pool.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback(ctx)
			tx.Exec(ctx, `SET LOCAL enable_seqscan = off`)
			rows, err := tx.Query(ctx, `EXPLAIN `+s.q.user, "ann", unixCeil(time.Now()))
			if err != nil {
				t.Fatal(err)
			}
			plan, _ := pgx.CollectRows(rows, pgx.RowTo[string])
			if !strings.Contains(strings.Join(plan, "\n"), "IDX_session_user") {
				t.Errorf("UserSessions plan does not use the user index:\n%s", strings.Join(plan, "\n"))
			}
		})
	}
}

func TestTopLevelText(t *testing.T) {
	for doc, want := range map[string]string{
		`{"user_id":"ann"}`:     "ann:true",
		`{"user_id":"a\/b"}`:    "a/b:true",
		`{"user_id":42}`:        "42:true",
		`{"user_id":{"a":1}}`:   `{"a":1}:true`,
		`{"user_id":null}`:      ":false",
		`{"other":1}`:           ":false",
		`[1]`:                   ":false",
		`not json`:              ":false",
		`{"user_id":"\u0000x"}`: "\x00x:true",
	} {
		u, ok := topLevelText([]byte(doc), "user_id")
		if got := fmt.Sprintf("%s:%v", u, ok); got != want {
			t.Errorf("topLevelText(%s) = %q; want %q", doc, got, want)
		}
	}
}

func sorted(ids []string) []string {
	out := append([]string{}, ids...)
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j] < out[j-1]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

func TestIterateAndCount(t *testing.T) {
	e := newEnv(t)
	s := e.store(t, Options{})
	ctx := t.Context()
	const live = 2*iteratePage + 7
	e.exec(t, `INSERT INTO `+s.Table()+` SELECT 'live-' || i, json_build_object('cookie', json_build_object(), 'i', i), to_timestamp($1)
		FROM generate_series(1, $2) i`, unixCeil(hour()), live)
	e.exec(t, `INSERT INTO `+s.Table()+` SELECT 'dead-' || i, '{"cookie":{}}', to_timestamp($1)
		FROM generate_series(1, 30) i`, time.Now().Add(-time.Hour).Unix())
	n, err := s.Count(ctx)
	if err != nil || n != live {
		t.Fatalf("Count = %d, %v; want %d", n, err, live)
	}
	seen := map[string]int{}
	err = s.Iterate(ctx, func(r session.Record) error {
		seen[r.ID]++
		if !strings.HasPrefix(r.ID, "live-") || len(r.Data) == 0 || r.ExpiresAt.Before(time.Now()) {
			t.Errorf("Iterate yielded %q %s %v", r.ID, r.Data, r.ExpiresAt)
		}
		// The store is usable from fn: no connection is held.
		if _, _, _, err := s.Load(ctx, r.ID); err != nil {
			return err
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) != live {
		t.Errorf("Iterate saw %d records; want %d", len(seen), live)
	}
	for id, c := range seen {
		if c != 1 {
			t.Errorf("Iterate yielded %s %d times", id, c)
		}
	}
	stop := errors.New("stop")
	calls := 0
	if err := s.Iterate(ctx, func(session.Record) error { calls++; return stop }); !errors.Is(err, stop) || calls != 1 {
		t.Errorf("Iterate after fn error: err %v after %d calls; want stop after 1", err, calls)
	}
}

func TestClosed(t *testing.T) {
	e := newEnv(t)
	s := e.store(t, Options{})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	ctx := t.Context()
	if _, _, _, err := s.Load(ctx, "x"); !errors.Is(err, session.ErrClosed) {
		t.Errorf("Load after Close: %v", err)
	}
	if err := s.Save(ctx, "x", []byte(`{}`), hour()); !errors.Is(err, session.ErrClosed) {
		t.Errorf("Save after Close: %v", err)
	}
	if _, err := s.Prune(ctx); !errors.Is(err, session.ErrClosed) {
		t.Errorf("Prune after Close: %v", err)
	}
	// The caller's pool is not ours to close.
	if err := e.pool.Ping(ctx); err != nil {
		t.Errorf("caller's pool closed by Close: %v", err)
	}
}

func TestOpen(t *testing.T) {
	pool := pgtest.Pool(t, nil)
	schema := pgtest.Schema(t, pool)
	ctx := t.Context()
	u := pgtest.URL()
	sep := "?"
	if strings.Contains(u, "?") {
		sep = "&"
	}
	s, err := Open(ctx, u+sep+"table=web_sessions&schema="+schema+"&create_table=true", Options{PruneInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	want := pgx.Identifier{schema, "web_sessions"}.Sanitize()
	if s.Table() != want {
		t.Errorf("Table = %s; want %s", s.Table(), want)
	}
	if err := s.Save(ctx, "o", []byte(`{"cookie":{}}`), hour()); err != nil {
		t.Fatal(err)
	}
	own := s.Pool()
	s.Close()
	if err := own.Ping(ctx); err == nil {
		t.Error("the pool Open made is still open after Close")
	}

	if _, err := Open(ctx, u+sep+"create_table=maybe", Options{}); err == nil || !strings.Contains(err.Error(), "create_table") {
		t.Errorf("bad create_table: %v", err)
	}
}

func TestOpenNeverShowsPassword(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	const pw = "s3cr3t-pw"
	for _, u := range []string{
		"postgres://app:" + pw + "@127.0.0.1:1/db?connect_timeout=2",
		"postgres://app:" + pw + "@127.0.0.1:1/db?sslmode=bogus",
		"postgres://app:" + pw + "@127.0.0.1:99999999/db",
		"postgres://app:" + pw + "@[::1/db",
		"postgresql://app@127.0.0.1:1/db?password=" + pw + "&connect_timeout=2",
		"host=127.0.0.1 port=1 user=app password=" + pw + " connect_timeout=2",
	} {
		_, err := Open(ctx, u, Options{PruneInterval: -1})
		if err == nil {
			t.Errorf("Open succeeded on a bad URL")
			continue
		}
		if strings.Contains(err.Error(), pw) {
			t.Errorf("error shows the password: %v", err)
		}
	}
}
