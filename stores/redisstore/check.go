package redisstore

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sessionkit/sessionkit/session"
)

// Check examines the Redis behind the store for an operator: its version
// (7.0 or later is needed), its topology (a single node, a master with
// replicas, a master found through Sentinel, a Cluster and its masters, or a
// replica, which refuses writes), its eviction policy (anything other than
// noeviction drops sessions when memory is full), and the session keys:
// how many, the range of their expiries, and those without an expiry, which
// never end. It reads every session key (see Iterate). It implements
// session.Checker.
func (s *Store) Check(ctx context.Context, report func(session.Finding)) error {
	say := func(sev session.Severity, format string, args ...any) {
		report(session.Finding{Severity: sev, Message: fmt.Sprintf(format, args...)})
	}
	if err := s.Ping(ctx); err != nil {
		return fmt.Errorf("cannot reach Redis: %w", err)
	}
	c := s.client
	kind := "a single node"
	if cc, ok := c.(*redis.ClusterClient); ok {
		masters := 0
		err := cc.ForEachMaster(ctx, func(context.Context, *redis.Client) error { masters++; return nil })
		if err != nil {
			say(session.SeverityError, "cannot list the Cluster's masters: %v", err)
		}
		kind = fmt.Sprintf("a Cluster of %d masters", masters)
	} else {
		repl := c.Info(ctx, "replication").Val()
		switch n := infoField(repl, "connected_slaves"); {
		case infoField(repl, "role") == "slave":
			say(session.SeverityError, "connected to a replica, which refuses writes: name the master, or the Sentinels with master_name")
			kind = "a replica"
		case n != "" && n != "0":
			kind = "a master with " + n + " connected replicas"
		}
		if s.master != "" {
			kind += fmt.Sprintf(", found through Sentinel as %q", s.master)
		}
	}
	version := infoField(c.Info(ctx, "server").Val(), "redis_version")
	say(session.SeverityOK, "connected to Redis %s, %s", version, kind)
	if major, _, _ := strings.Cut(version, "."); version != "" {
		if n, err := strconv.Atoi(major); err == nil && n < 7 {
			say(session.SeverityError, "Redis %s is older than 7.0: loading a session needs PEXPIRETIME", version)
		}
	}
	if cfg, err := c.ConfigGet(ctx, "maxmemory-policy").Result(); err == nil {
		switch p := cfg["maxmemory-policy"]; p {
		case "", "noeviction":
			say(session.SeverityOK, "maxmemory-policy noeviction: sessions are never evicted")
		default:
			say(session.SeverityWarning, "maxmemory-policy %s: Redis evicts keys, sessions included, when memory is full; noeviction keeps users signed in", p)
		}
	} else {
		say(session.SeverityInfo, "CONFIG GET is not allowed (%v); eviction policy unknown", err)
	}
	say(session.SeverityInfo, "keyspace: keys with prefix %q", s.prefix)
	var live, noTTL int64
	var oldest, newest time.Time
	foreign := s.Foreign()
	err := s.Iterate(ctx, func(rec session.Record) error {
		if rec.ExpiresAt.IsZero() {
			noTTL++
			return nil
		}
		live++
		if oldest.IsZero() || rec.ExpiresAt.Before(oldest) {
			oldest = rec.ExpiresAt
		}
		if rec.ExpiresAt.After(newest) {
			newest = rec.ExpiresAt
		}
		return nil
	})
	if err != nil {
		say(session.SeverityError, "cannot scan the sessions: %v", err)
		return nil
	}
	say(session.SeverityInfo, "%d live sessions (Redis deletes expired keys itself)", live)
	if live > 0 {
		say(session.SeverityInfo, "expiries from %s to %s", stamp(oldest), stamp(newest))
	}
	if noTTL > 0 {
		say(session.SeverityWarning, "%d session keys have no expiry and never end (written with TTL disabled?)", noTTL)
	}
	if n := s.Foreign() - foreign; n > 0 {
		say(session.SeverityWarning, "%d keys under the prefix hold another type than a session (another application's data?); sessions read them as missing", n)
	}
	return nil
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// infoField reads one field of an INFO reply.
func infoField(info, field string) string {
	for line := range strings.SplitSeq(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), field+":"); ok {
			return v
		}
	}
	return ""
}
