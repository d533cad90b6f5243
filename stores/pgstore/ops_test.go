package pgstore

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sessionkit/sessionkit/internal/pgtest"
	"github.com/sessionkit/sessionkit/session"
)

// TestExpiryIndependentOfTimeZone runs the same expiry decisions through
// pools whose session TimeZone differs, as when the server's default
// differs; the store itself never sets it. The stored wall-clock times
// differ, the decisions must not.
func TestExpiryIndependentOfTimeZone(t *testing.T) {
	now := time.Now()
	cases := []struct {
		id   string
		exp  time.Time
		live bool
	}{
		{"hour-ahead", now.Add(time.Hour), true},
		{"minute-ahead", now.Add(time.Minute + 300*time.Millisecond), true},
		{"day-ahead", now.Add(24 * time.Hour), true},
		{"two-seconds-ago", now.Add(-2 * time.Second), false},
		{"hour-ago", now.Add(-time.Hour), false},
		{"day-ago", now.Add(-24 * time.Hour), false},
	}
	results := map[string]string{}
	for _, tz := range []string{"UTC", "America/Los_Angeles", "Asia/Tokyo"} {
		t.Run(strings.ReplaceAll(tz, "/", "_"), func(t *testing.T) {
			pool := pgtest.Pool(t, func(c *pgxpool.Config) { c.ConnConfig.RuntimeParams["timezone"] = tz })
			schema := pgtest.Schema(t, pool)
			ctx := t.Context()
			var serverTZ string
			pool.QueryRow(ctx, `SELECT current_setting('TimeZone')`).Scan(&serverTZ)
			if serverTZ != tz {
				t.Fatalf("session TimeZone = %q; want %q", serverTZ, tz)
			}
			s, err := New(ctx, pool, Options{Schema: schema, CreateTable: true, PruneInterval: -1})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			var summary []string
			for _, c := range cases {
				if err := s.Save(ctx, c.id, []byte(`{"cookie":{}}`), c.exp); err != nil {
					t.Fatal(err)
				}
			}
			// A row as connect-pg-simple writes it.
			nodeExp := unixCeil(time.Now()) + 3600
			e := env{pool: pool}
			e.exec(t, `INSERT INTO `+s.Table()+` ("sess", "expire", "sid") SELECT $1, to_timestamp($2), $3`,
				`{"cookie":{"originalMaxAge":3600000}}`, nodeExp, "node")
			for _, c := range cases {
				_, exp, found, err := s.Load(ctx, c.id)
				if err != nil {
					t.Fatal(err)
				}
				if found != c.live {
					t.Errorf("%s: found = %v; want %v", c.id, found, c.live)
				}
				if found && !exp.Equal(time.Unix(unixCeil(c.exp), 0)) {
					t.Errorf("%s: expiry = %v; want %v", c.id, exp, time.Unix(unixCeil(c.exp), 0))
				}
				summary = append(summary, fmt.Sprintf("%s=%v", c.id, found))
			}
			if _, exp, found, _ := s.Load(ctx, "node"); !found || exp.Unix() != nodeExp {
				t.Errorf("row written as Node does: found %v, expiry %v; want %v", found, exp, time.Unix(nodeExp, 0))
			}
			// The stored wall time is the instant in the session's TimeZone,
			// as Node's to_timestamp writes it.
			var wall string
			pool.QueryRow(ctx, `SELECT to_char("expire", 'YYYY-MM-DD HH24:MI:SS') FROM `+s.Table()+` WHERE "sid" = 'day-ahead'`).Scan(&wall)
			loc, err := time.LoadLocation(tz)
			if err != nil {
				t.Fatal(err)
			}
			if want := time.Unix(unixCeil(cases[2].exp), 0).In(loc).Format("2006-01-02 15:04:05"); wall != want {
				t.Errorf("stored expire = %s; want the %s wall time %s", wall, tz, want)
			}
			n, err := s.Count(ctx)
			if err != nil || n != 4 {
				t.Errorf("Count = %d, %v; want 4", n, err)
			}
			var iterated []string
			s.Iterate(ctx, func(r session.Record) error {
				iterated = append(iterated, r.ID+"@"+strconv.FormatInt(r.ExpiresAt.Unix(), 10))
				return nil
			})
			summary = append(summary, "iterate="+fmt.Sprint(len(iterated)))
			if err := s.Touch(ctx, "hour-ago", now.Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
			pruned, err := s.Prune(ctx)
			if err != nil || pruned != 3 {
				t.Errorf("Prune = %d, %v; want the 3 expired rows", pruned, err)
			}
			summary = append(summary, fmt.Sprintf("count=%d pruned=%d", n, pruned))
			results[tz] = strings.Join(summary, " ")
		})
	}
	if results["UTC"] == "" || results["UTC"] != results["America/Los_Angeles"] || results["UTC"] != results["Asia/Tokyo"] {
		t.Errorf("decisions differ by TimeZone:\n%q", results)
	}
}

func TestCheck(t *testing.T) {
	e := newEnv(t)
	s := e.store(t, Options{})
	ctx := t.Context()
	e.exec(t, `INSERT INTO `+s.Table()+` SELECT 'l' || i, '{"cookie":{}}', to_timestamp($1 + i) FROM generate_series(1, 3) i`, unixCeil(hour()))
	e.exec(t, `INSERT INTO `+s.Table()+` SELECT 'x' || i, '{"cookie":{}}', to_timestamp($1 + i) FROM generate_series(1, 2) i`, time.Now().Add(-time.Hour).Unix())

	r := check(t, s)
	if !r.ok() {
		t.Errorf("Check on a good table: not OK:\n%v", r)
	}
	for _, want := range []string{"info: 3 live sessions, 2 expired awaiting pruning", "ok: connected to PostgreSQL", "info: server TimeZone ", "info: expiries from "} {
		if !strings.Contains(r.String(), want) {
			t.Errorf("Check on a good table: findings %v lack %q", r, want)
		}
	}
	if n, err := s.CountExpired(ctx); n != 2 || err != nil {
		t.Errorf("CountExpired = %d, %v; want 2", n, err)
	}

	for _, c := range []struct {
		name, sql string
		sev       session.Severity
		want      string
	}{
		{"missing expire index", `DROP INDEX ` + pgx.Identifier{e.schema, "IDX_session_expire"}.Sanitize(), session.SeverityWarning, `no index on "expire"`},
		{"sess as text", `ALTER TABLE ` + s.Table() + ` ALTER COLUMN "sess" TYPE text`, session.SeverityError, `column "sess" is text, expected json`},
		{"expire with time zone", `ALTER TABLE ` + s.Table() + ` ALTER COLUMN "expire" TYPE timestamptz`, session.SeverityWarning, `column "expire" is timestamp with time zone`},
		{"bounded sid", `ALTER TABLE ` + s.Table() + ` ALTER COLUMN "sid" TYPE varchar(20)`, session.SeverityWarning, `character varying(20)`},
		{"no primary key", `ALTER TABLE ` + s.Table() + ` DROP CONSTRAINT "session_pkey"`, session.SeverityError, `no primary key`},
		{"extra required column", `ALTER TABLE ` + s.Table() + ` ADD COLUMN "tenant" int NOT NULL DEFAULT 1; ALTER TABLE ` + s.Table() + ` ALTER COLUMN "tenant" DROP DEFAULT`, session.SeverityError, `extra column "tenant"`},
		{"missing table", `DROP TABLE ` + s.Table(), session.SeverityError, `does not exist`},
	} {
		e.exec(t, c.sql)
		r := check(t, s)
		if r.ok() {
			t.Errorf("%s: Check reports OK", c.name)
		}
		found := false
		for _, f := range r {
			if f.Severity == c.sev && strings.Contains(f.Message, c.want) && !strings.Contains(f.Message, "\n") {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: findings %v lack a %v containing %q", c.name, r, c.sev, c.want)
		}
	}
}

func TestCheckNotesDaylightSaving(t *testing.T) {
	pool := pgtest.Pool(t, func(c *pgxpool.Config) { c.ConnConfig.RuntimeParams["timezone"] = "America/Los_Angeles" })
	schema := pgtest.Schema(t, pool)
	s, err := New(t.Context(), pool, Options{Schema: schema, CreateTable: true, PruneInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	r := check(t, s)
	if !strings.Contains(r.String(), "TimeZone America/Los_Angeles") || !r.ok() || !strings.Contains(r.String(), "daylight saving") {
		t.Errorf("findings %v; want TimeZone America/Los_Angeles, OK, and an info about daylight saving", r)
	}
}

// reported is what one Check reported.
type reported []session.Finding

func (fs reported) ok() bool {
	for _, f := range fs {
		if f.Severity > session.SeverityInfo {
			return false
		}
	}
	return true
}

func (fs reported) String() string {
	var b strings.Builder
	for _, f := range fs {
		fmt.Fprintln(&b, f)
	}
	return b.String()
}

func check(t *testing.T, s *Store) reported {
	t.Helper()
	var fs reported
	if err := s.Check(t.Context(), func(f session.Finding) { fs = append(fs, f) }); err != nil {
		t.Fatal(err)
	}
	for _, f := range fs {
		if strings.Contains(f.Message, "\n") {
			t.Errorf("finding spans lines: %q", f.Message)
		}
	}
	return fs
}

func TestCorruptRows(t *testing.T) {
	e := newEnv(t)
	s := e.store(t, Options{})
	ctx := t.Context()
	docs := map[string]string{
		"no-cookie":  `{"user_id":"u"}`,
		"empty":      `{}`,
		"array":      `[1,"two",{"three":3}]`,
		"string":     `"just a string"`,
		"number":     `12345`,
		"null":       `null`,
		"null-ck":    `{"cookie":null}`,
		"str-ck":     `{"cookie":"yes"}`,
		"dup-keys":   `{"cookie":{},"a":1,"a":2}`,
		"deep":       strings.Repeat(`{"a":`, 500) + `1` + strings.Repeat(`}`, 500),
		"nul-escape": `{"cookie":{},"x":"\u0000"}`,
		"big":        `{"cookie":{},"blob":"` + strings.Repeat("x", 1<<20) + `"}`,
		"old-node":   `{"cookie":{"originalMaxAge":null,"expires":null,"httpOnly":true,"path":"/"},"flash":{},"passport":{"user":7}}`,
	}
	for id, doc := range docs {
		e.exec(t, `INSERT INTO `+s.Table()+` VALUES ($1, $2::json, to_timestamp($3))`, id, doc, unixCeil(hour()))
	}
	for id, doc := range docs {
		data, _, found, err := s.Load(ctx, id)
		if err != nil || !found || string(data) != doc {
			t.Errorf("%s: Load = found %v, err %v, same bytes %v", id, found, err, string(data) == doc)
		}
	}
	n := 0
	if err := s.Iterate(ctx, func(session.Record) error { n++; return nil }); err != nil || n != len(docs) {
		t.Errorf("Iterate: %d records, err %v", n, err)
	}
	if _, err := s.UserSessions(ctx, "u"); err != nil {
		t.Errorf("UserSessions: %v", err)
	}
	if err := s.Check(ctx, func(session.Finding) {}); err != nil {
		t.Errorf("Check: %v", err)
	}
	// Invalid JSON cannot enter a json column; Save reports it with the
	// SQLSTATE rather than storing it.
	err := s.Save(ctx, "bad", []byte(`{"cookie":`), hour())
	if SQLState(err) != "22P02" || !strings.Contains(err.Error(), "SQLSTATE 22P02") {
		t.Errorf("Save of invalid JSON: %v; want SQLSTATE 22P02 in the error", err)
	}
	if err := s.Save(ctx, "nil", nil, hour()); err == nil {
		t.Error("Save of nil data succeeded")
	}
}

func TestPruneBatches(t *testing.T) {
	e := newEnv(t)
	const batch, expired, live = 300, 2500, 500
	s := e.store(t, Options{PruneBatch: batch})
	var batches []int64
	s.batchHook = func(n int64) { batches = append(batches, n) }
	e.exec(t, `INSERT INTO `+s.Table()+` SELECT 'dead-' || i, '{"cookie":{}}', to_timestamp($1 - i) FROM generate_series(1, $2) i`, time.Now().Unix()-1, expired)
	e.exec(t, `INSERT INTO `+s.Table()+` SELECT 'live-' || i, '{"cookie":{}}', to_timestamp($1 + i) FROM generate_series(1, $2) i`, unixCeil(hour()), live)
	n, err := s.Prune(t.Context())
	if err != nil || n != expired {
		t.Fatalf("Prune = %d, %v; want %d", n, err, expired)
	}
	var sum int64
	for _, b := range batches {
		if b > batch {
			t.Errorf("a DELETE removed %d rows; the bound is %d", b, batch)
		}
		sum += b
	}
	if sum != expired || len(batches) != expired/batch+1 {
		t.Errorf("batches %v; want %d statements summing to %d", batches, expired/batch+1, expired)
	}
	var left int
	e.pool.QueryRow(t.Context(), `SELECT count(*) FROM `+s.Table()).Scan(&left)
	if left != live {
		t.Errorf("%d rows left; want the %d live ones", left, live)
	}
}

func TestPruneSkipsLockedRows(t *testing.T) {
	e := newEnv(t)
	s := e.store(t, Options{PruneBatch: 10})
	ctx := t.Context()
	e.exec(t, `INSERT INTO `+s.Table()+` SELECT 'dead-' || i, '{"cookie":{}}', to_timestamp($1) FROM generate_series(1, 25) i`, time.Now().Unix()-60)
	// A writer holds one expired row; Prune neither waits for it nor
	// fails.
	tx, err := e.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `SELECT 1 FROM `+s.Table()+` WHERE "sid" = 'dead-7' FOR UPDATE`); err != nil {
		t.Fatal(err)
	}
	pctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	n, err := s.Prune(pctx)
	if err != nil || n != 24 {
		t.Errorf("Prune = %d, %v; want 24, the locked row skipped", n, err)
	}
}

func TestPruneLoop(t *testing.T) {
	e := newEnv(t)
	s := e.store(t, Options{})
	e.exec(t, `INSERT INTO `+s.Table()+` SELECT 'dead-' || i, '{"cookie":{}}', to_timestamp($1) FROM generate_series(1, 50) i`, time.Now().Unix()-60)
	e.exec(t, `INSERT INTO `+s.Table()+` VALUES ('live', '{"cookie":{}}', to_timestamp($1))`, unixCeil(hour()))

	// Another process holds the prune lock: this one skips its rounds.
	other, err := e.pool.Acquire(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	key := lockKey("prune", s.names.table)
	if _, err := other.Exec(t.Context(), `SELECT pg_advisory_lock($1)`, key); err != nil {
		t.Fatal(err)
	}

	rounds := make(chan bool, 100)
	var afterClose atomic.Bool
	var closed atomic.Bool
	s.loopHook = func(ran bool) {
		if closed.Load() {
			afterClose.Store(true)
		}
		select {
		case rounds <- ran:
		default:
		}
	}
	s.opts.PruneInterval = 5 * time.Millisecond
	s.startPruneLoop()

	for range 3 {
		if ran := <-rounds; ran {
			t.Fatal("pruned while another process held the lock")
		}
	}
	if n, _ := s.Count(t.Context()); n != 1 {
		t.Fatalf("Count = %d", n)
	}
	var dead int
	e.pool.QueryRow(t.Context(), `SELECT count(*) FROM `+s.Table()).Scan(&dead)
	if dead != 51 {
		t.Fatalf("rows = %d; want 51 before the lock is released", dead)
	}
	other.Exec(t.Context(), `SELECT pg_advisory_unlock($1)`, key)
	other.Release()
	for ran := range rounds {
		if ran {
			break
		}
	}
	var rows int
	e.pool.QueryRow(t.Context(), `SELECT count(*) FROM `+s.Table()).Scan(&rows)
	if rows != 1 {
		t.Errorf("rows = %d after a background round; want only the live one", rows)
	}

	s.Close()
	closed.Store(true)
	select {
	case <-s.loopDone:
	default:
		t.Fatal("the prune loop still runs after Close returned")
	}
	time.Sleep(30 * time.Millisecond)
	if afterClose.Load() {
		t.Error("a prune round ran after Close")
	}
	// The lock was released: another session can take it.
	var got bool
	e.pool.QueryRow(t.Context(), `SELECT pg_try_advisory_lock($1)`, key).Scan(&got)
	if !got {
		t.Error("prune lock still held after Close")
	}
}

func TestOutage(t *testing.T) {
	cfg := pgtest.Config(t)
	target := net.JoinHostPort(cfg.ConnConfig.Host, strconv.Itoa(int(cfg.ConnConfig.Port)))
	proxy := pgtest.NewProxy(t, target)
	host, port, _ := net.SplitHostPort(proxy.Addr())
	pool := pgtest.Pool(t, func(c *pgxpool.Config) {
		c.ConnConfig.Host = host
		p, _ := strconv.Atoi(port)
		c.ConnConfig.Port = uint16(p)
		c.ConnConfig.ConnectTimeout = 2 * time.Second
		c.ConnConfig.Fallbacks = nil
	})
	schema := pgtest.Schema(t, pool)
	s, err := New(t.Context(), pool, Options{Schema: schema, CreateTable: true, PruneInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := t.Context()
	data := []byte(`{"cookie":{},"n":1}`)
	if err := s.Save(ctx, "kept-id", data, hour()); err != nil {
		t.Fatal(err)
	}

	proxy.Down()
	for range 3 {
		_, _, found, err := s.Load(ctx, "kept-id")
		if err == nil || found {
			t.Fatalf("Load during the outage: found %v, err %v; want an error", found, err)
		}
		if strings.Contains(err.Error(), "kept-id") {
			t.Errorf("error names the session ID: %v", err)
		}
	}
	if err := s.Save(ctx, "other", data, hour()); err == nil {
		t.Error("Save during the outage succeeded")
	}
	if err := s.Ping(ctx); err == nil {
		t.Error("Ping during the outage succeeded")
	}

	proxy.Up()
	deadline := time.Now().Add(15 * time.Second)
	var lastErr error
	for time.Now().Before(deadline) {
		got, _, found, err := s.Load(ctx, "kept-id")
		if err == nil {
			if !found || string(got) != string(data) {
				t.Fatalf("after the outage: found %v, data %s", found, got)
			}
			lastErr = nil
			break
		}
		lastErr = err
		time.Sleep(50 * time.Millisecond)
	}
	if lastErr != nil {
		t.Fatalf("the store did not recover after the server came back: %v", lastErr)
	}
	if err := s.Save(ctx, "other", data, hour()); err != nil {
		t.Errorf("Save after the outage: %v", err)
	}
}

func TestConcurrentUse(t *testing.T) {
	e := newEnv(t)
	s := e.store(t, Options{PruneBatch: 7})
	ctx := t.Context()
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for w := range 8 {
		wg.Go(func() {
			for i := range 50 {
				id := fmt.Sprintf("w%d-%d", w, i%5)
				exp := hour()
				if i%3 == 0 {
					exp = time.Now().Add(-time.Minute)
				}
				if err := s.Save(ctx, id, []byte(`{"cookie":{}}`), exp); err != nil {
					errs <- err
					return
				}
				if _, _, _, err := s.Load(ctx, id); err != nil {
					errs <- err
					return
				}
				if err := s.Touch(ctx, id, hour()); err != nil {
					errs <- err
					return
				}
				if i%10 == 0 {
					if _, err := s.Prune(ctx); err != nil {
						errs <- err
						return
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
