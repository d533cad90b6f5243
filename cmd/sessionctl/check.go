package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	bolt "go.etcd.io/bbolt"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/stores/mysqlstore"
	"github.com/sessionkit/sessionkit/stores/pgstore"
	"github.com/sessionkit/sessionkit/stores/redisstore"
)

// report collects check findings, one line each.
type report struct {
	w         io.Writer
	deviation bool
}

func (r *report) ok(format string, args ...any)   { r.line("ok", format, args...) }
func (r *report) info(format string, args ...any) { r.line("info", format, args...) }
func (r *report) warn(format string, args ...any) {
	r.deviation = true
	r.line("warning", format, args...)
}
func (r *report) fail(format string, args ...any) {
	r.deviation = true
	r.line("error", format, args...)
}

func (r *report) line(sev, format string, args ...any) {
	fmt.Fprintf(r.w, "%s: %s\n", sev, strings.ReplaceAll(fmt.Sprintf(format, args...), "\n", " "))
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// runCheck prints one line per finding and returns 1 when any is a warning
// or an error.
func runCheck(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	raw, err := oneURL(fs, args, stderr)
	if err != nil {
		return status(err, stderr)
	}
	r := &report{w: stdout}
	t, err := open(ctx, raw, openOptions{noCreate: true, mustExist: true})
	if err != nil {
		r.fail("cannot open the store: %v", err)
		return exitDeviation
	}
	defer t.Close()
	switch st := t.store.(type) {
	case *pgstore.Store:
		checkPostgres(ctx, r, st)
	case *mysqlstore.Store:
		checkMySQL(ctx, r, st)
	case *redisstore.Store:
		checkRedis(ctx, r, st, query(raw).Get("master_name"))
	default:
		if t.db != nil {
			checkBbolt(ctx, r, t)
		} else {
			checkGeneric(ctx, r, t)
		}
	}
	if r.deviation {
		return exitDeviation
	}
	return exitOK
}

func checkPostgres(ctx context.Context, r *report, st *pgstore.Store) {
	rep, err := st.Check(ctx)
	if err != nil {
		r.fail("cannot check: %v", err)
		return
	}
	if rep.ServerVersion != "" {
		r.ok("connected to PostgreSQL %s", rep.ServerVersion)
	}
	r.info("server TimeZone %s (expiry is TimeZone-independent through to_timestamp)", rep.TimeZone)
	r.info("table %s", rep.Table)
	r.info("%d live sessions, %d expired awaiting pruning", rep.Live, rep.Expired)
	if !rep.OldestExpiry.IsZero() {
		r.info("expiries from %s to %s", stamp(rep.OldestExpiry), stamp(rep.NewestExpiry))
	}
	for _, f := range rep.Findings {
		switch f.Severity {
		case pgstore.Error:
			r.fail("%s", f.Message)
		case pgstore.Warning:
			r.warn("%s", f.Message)
		default:
			r.info("%s", f.Message)
		}
	}
	if rep.OK() {
		r.ok("table, columns, primary key and expire index as connect-pg-simple expects")
	}
}

// checkRedis reports on the Redis behind st; master is the master name of
// a URL that goes through Sentinel, or "".
func checkRedis(ctx context.Context, r *report, st *redisstore.Store, master string) {
	if err := st.Ping(ctx); err != nil {
		r.fail("cannot reach Redis: %v", err)
		return
	}
	c := st.Client()
	kind := "a single node"
	if cc, ok := c.(*redis.ClusterClient); ok {
		masters := 0
		err := cc.ForEachMaster(ctx, func(context.Context, *redis.Client) error { masters++; return nil })
		if err != nil {
			r.fail("cannot list the Cluster's masters: %v", err)
		}
		kind = fmt.Sprintf("a Cluster of %d masters", masters)
	} else {
		repl := c.Info(ctx, "replication").Val()
		switch n := infoField(repl, "connected_slaves"); {
		case infoField(repl, "role") == "slave":
			r.fail("connected to a replica, which refuses writes: name the master, or the Sentinels with master_name")
			kind = "a replica"
		case n != "" && n != "0":
			kind = "a master with " + n + " connected replicas"
		}
		if master != "" {
			kind += fmt.Sprintf(", found through Sentinel as %q", master)
		}
	}
	version := infoField(c.Info(ctx, "server").Val(), "redis_version")
	r.ok("connected to Redis %s, %s", version, kind)
	if major, _, _ := strings.Cut(version, "."); version != "" {
		if n, err := strconv.Atoi(major); err == nil && n < 7 {
			r.fail("Redis %s is older than 7.0: loading a session needs PEXPIRETIME", version)
		}
	}
	if cfg, err := c.ConfigGet(ctx, "maxmemory-policy").Result(); err == nil {
		switch p := cfg["maxmemory-policy"]; {
		case p == "" || p == "noeviction":
			r.ok("maxmemory-policy %s: sessions are never evicted", orDefault(p, "noeviction"))
		default:
			r.warn("maxmemory-policy %s: Redis evicts keys, sessions included, when memory is full; noeviction keeps users signed in", p)
		}
	} else {
		r.info("CONFIG GET is not allowed (%v); eviction policy unknown", err)
	}
	r.info("keyspace: keys with prefix %q", st.Prefix())
	var live, noTTL int64
	var oldest, newest time.Time
	err := st.Iterate(ctx, func(rec session.Record) error {
		if rec.ExpiresAt.IsZero() {
			noTTL++
			return nil
		}
		live++
		oldest, newest = span(oldest, newest, rec.ExpiresAt)
		return nil
	})
	if err != nil {
		r.fail("cannot scan the sessions: %v", err)
		return
	}
	r.info("%d live sessions (Redis deletes expired keys itself)", live)
	if live > 0 {
		r.info("expiries from %s to %s", stamp(oldest), stamp(newest))
	}
	if noTTL > 0 {
		r.warn("%d session keys have no expiry and never end (written with TTL disabled?)", noTTL)
	}
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// infoField reads one field of an INFO reply.
func infoField(info, field string) string {
	for line := range strings.SplitSeq(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), field+":"); ok {
			return v
		}
	}
	return ""
}

func span(oldest, newest, t time.Time) (time.Time, time.Time) {
	if oldest.IsZero() || t.Before(oldest) {
		oldest = t
	}
	if t.After(newest) {
		newest = t
	}
	return oldest, newest
}

// bboltLayout is what the file holds, read from its buckets directly.
type bboltLayout struct {
	records, indexed, expired int64
	oldest, newest            time.Time
	problems                  []string
}

// readBbolt reads the store's buckets: the data bucket's values start with
// the record's expiry and the expiry index's keys with the big-endian
// expiry in nanoseconds (see package stores/boltstore).
func readBbolt(db *bolt.DB, bucket string, now time.Time, consistency bool) (bboltLayout, error) {
	var l bboltLayout
	err := db.View(func(tx *bolt.Tx) error {
		data, exp := tx.Bucket([]byte(bucket+"/data")), tx.Bucket([]byte(bucket+"/expiry"))
		if data == nil || exp == nil {
			return fmt.Errorf("buckets %q and %q are missing", bucket+"/data", bucket+"/expiry")
		}
		l.records = int64(data.Stats().KeyN)
		l.indexed = int64(exp.Stats().KeyN)
		var nowKey [8]byte
		binary.BigEndian.PutUint64(nowKey[:], uint64(now.UnixNano()))
		c := exp.Cursor()
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			if len(k) < 8 {
				l.problems = append(l.problems, "an expiry index key is shorter than 8 bytes")
				continue
			}
			if bytes.Compare(k[:8], nowKey[:]) > 0 {
				break
			}
			l.expired++
		}
		if k, _ := c.First(); len(k) >= 8 {
			l.oldest = time.Unix(0, int64(binary.BigEndian.Uint64(k)))
		}
		if k, _ := c.Last(); len(k) >= 8 {
			l.newest = time.Unix(0, int64(binary.BigEndian.Uint64(k)))
		}
		if consistency {
			for err := range tx.Check() {
				if len(l.problems) < 10 {
					l.problems = append(l.problems, err.Error())
				}
			}
		}
		return nil
	})
	return l, err
}

func checkBbolt(ctx context.Context, r *report, t *target) {
	r.ok("opened %s (not locked by another process)", t.db.Path())
	if fi, err := os.Stat(t.db.Path()); err == nil {
		r.info("file size %d bytes", fi.Size())
	}
	l, err := readBbolt(t.db, t.bucket, time.Now(), true)
	if err != nil {
		r.fail("%v", err)
		return
	}
	for _, p := range l.problems {
		r.fail("file damaged: %s", p)
	}
	if len(l.problems) == 0 {
		r.ok("every page of the file is consistent")
	}
	if l.records != l.indexed {
		r.fail("the expiry index has %d entries for %d records", l.indexed, l.records)
	} else {
		r.ok("buckets %q with an expiry index covering all %d records", t.bucket+"/*", l.records)
	}
	live := l.indexed - l.expired
	r.info("%d live sessions, %d expired awaiting pruning", live, l.expired)
	if !l.oldest.IsZero() {
		r.info("expiries from %s to %s", stamp(l.oldest), stamp(l.newest))
	}
	var readable int64
	err = t.store.(session.Iterator).Iterate(ctx, func(session.Record) error { readable++; return nil })
	switch {
	case err != nil:
		r.fail("cannot read the sessions: %v", err)
	case readable < live:
		// A few may have expired between the two reads; more than that is
		// damage.
		r.warn("%d of %d live records are unreadable (checksum mismatch) and count as missing", live-readable, live)
	}
}

// checkGeneric checks a store through the capabilities it has.
func checkGeneric(ctx context.Context, r *report, t *target) {
	if p, ok := t.store.(session.Pinger); ok {
		if err := p.Ping(ctx); err != nil {
			r.fail("ping: %v", err)
			return
		}
		r.ok("the %s store answers", t.backend)
	}
	if c, ok := t.store.(session.Counter); ok {
		n, err := c.Count(ctx)
		if err != nil {
			r.fail("count: %v", err)
		} else {
			r.info("%d live sessions", n)
		}
	}
	if it, ok := t.store.(session.Iterator); ok {
		var oldest, newest time.Time
		err := it.Iterate(ctx, func(rec session.Record) error {
			oldest, newest = span(oldest, newest, rec.ExpiresAt)
			return nil
		})
		if err != nil {
			r.fail("iterate: %v", err)
		} else if !oldest.IsZero() {
			r.info("expiries from %s to %s", stamp(oldest), stamp(newest))
		}
	}
	if t.backend == "memory" {
		r.info("a memory:// store lives inside one process; this one is empty and separate from any server's")
	}
}
