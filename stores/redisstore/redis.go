// Package redisstore stores sessions in Redis through go-redis/v9, in the key
// layout connect-redis uses, so a Go service and an Express app using
// connect-redis can share sessions.
//
// A session is one string key, Prefix + id (by default "sess:<id>"), whose
// value is exactly the bytes the Manager's codec wrote (with the JSON codec,
// the document express-session writes) and whose expiry is the session's
// expiry. Save is SET … PXAT, Touch is PEXPIREAT (the value is never
// rewritten), Load is GET with PEXPIRETIME in one round trip, and Delete is
// DEL.
//
// Expiry is kept to the millisecond as an absolute instant, so a session never
// outlives its expiry by more than a millisecond, however long the request
// took to reach Redis; this relies on the application's and Redis's clocks
// agreeing (NTP), as any absolute expiry does. connect-redis instead sends a
// relative TTL rounded up to whole seconds; both write the same kind of key,
// so either side reads and extends what the other wrote. A Save whose expiry
// is not in the future deletes the key instead of writing it.
//
// Redis expires keys by itself, so the store starts no goroutine and needs no
// pruning: it implements no session.Pruner. It implements session.Counter,
// session.Iterator, session.UserIndex, session.Pinger, session.Checker and
// io.Closer.
//
// The store takes a redis.UniversalClient, so one code path serves a single
// node, Sentinel (a failover client) and Redis Cluster: every command touches
// one key, so no command ever spans two hash slots. Count and Iterate SCAN
// every master of a Cluster (or every shard of a Ring). After a failed
// command on a Cluster the store asks go-redis to reload the slot map, so
// requests reach a promoted replica as soon as the cluster has elected it
// rather than at go-redis's next periodic reload. Behind Sentinel, the
// failover client follows the master the Sentinels announce. Redis
// replicates asynchronously, so in either failover the writes the old master
// accepted after the last replication and before the switch are discarded;
// sessions saved before are kept (see TestSentinelFailover and the Cluster
// failover test for the numbers).
//
// Concurrent writes: the store implements session.ConditionalStore on the
// same keys and values. The version is the value as loaded (Load's GET, no
// extra round trip or work); Replace is a Lua script on the session's one key
// (atomic, and Cluster-safe) that writes only while the value's SHA-1 is
// still that of the version, so a Node app's write in between is detected
// and never overwritten, and a deleted key is never written back. Touch
// (PEXPIREAT, or connect-redis's EXPIRE) leaves the value, and so the
// version, alone. Insert is SET … NX.
//
// Redis 7.0 or later is required: Load reads the expiry with PEXPIRETIME
// (7.0), Save writes with SET … PXAT (6.2), and the user index moves its
// set's expiry with PEXPIREAT … NX/GT (7.0).
package redisstore

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sessionkit/sessionkit/session"
)

// Options configures a Store. The zero value is ready to use.
type Options struct {
	// Prefix is put before every session ID to form its key. The default
	// is "sess:", connect-redis's default. An empty Prefix means the
	// default: a store without a prefix would count, iterate and collide
	// with every other key in the database.
	Prefix string

	// UserPrefix is put before a user's name to form the key of the set
	// that indexes the user's sessions. The default is "sess-user:". It
	// must not start with Prefix, nor Prefix with it, so that a user's set
	// can never be read as a session (or a session as a set) and never
	// shows up in Count or Iterate.
	UserPrefix string

	// ScanCount is the COUNT hint passed to SCAN by Count and Iterate: how
	// much of the keyspace one round trip examines. The default is 1000.
	ScanCount int64

	// NoUserIndex turns the per-user sets off. A set member costs about 90
	// bytes of Redis memory per session (used_memory, TestMemoryPerSession:
	// with a 480-byte session document a Go session takes 1.32x the memory
	// of the same session written by Node with the sets, 1.13x without,
	// the rest being sessionkit's metadata in the document), and a link
	// round trip whenever a session is saved or touched. Without them,
	// LinkUser and UnlinkUser do nothing and UserSessions (so the Manager's
	// RevokeUser, UserSessions and Others) returns an error wrapping
	// session.ErrUnsupported: "log out everywhere" then needs a scan of
	// every session (sessionctl revoke --scan). The default is false: the
	// sets are kept.
	NoUserIndex bool

	// Logger receives a warning when a key under Prefix holds another type
	// than a string (another application's data on a shared Redis), at most
	// once a minute and never with the key. The default is slog.Default().
	Logger *slog.Logger
}

const (
	defaultPrefix     = "sess:"
	defaultUserPrefix = "sess-user:"
	defaultScanCount  = 1000
)

// Store is a session.Store backed by Redis. It is safe for concurrent use.
type Store struct {
	client     redis.UniversalClient
	owned      bool   // Close closes client: it was made by Open.
	master     string // the master's name at the Sentinels, when Open made a failover client
	prefix     string
	userPrefix string
	match      string // SCAN pattern matching exactly the session keys.
	scanCount  int64
	noUsers    bool
	closed     atomic.Bool
	log        *slog.Logger
	inflight   sync.WaitGroup // calls cut short by their context, see do

	foreign     atomic.Int64 // keys of another type met, see Foreign
	foreignLogs atomic.Int64 // unix seconds of the last warning about them
}

var (
	_ session.Store     = (*Store)(nil)
	_ session.Counter   = (*Store)(nil)
	_ session.Iterator  = (*Store)(nil)
	_ session.UserIndex = (*Store)(nil)
	_ session.Pinger    = (*Store)(nil)
	_ session.Checker   = (*Store)(nil)
)

// New returns a Store that uses client, which the caller keeps: Close does
// not close it. client may be a *redis.Client, a failover (Sentinel)
// client, a *redis.ClusterClient or a *redis.Ring. New sends nothing to
// Redis; call Ping to check the connection.
//
// Every method returns the context's error as soon as the context ends, even
// while Redis has not answered (a stalled server, a lost network): the
// command is left to finish on its connection in the background. go-redis
// itself never stops waiting on cancellation, and stops at a deadline only
// with ContextTimeoutEnabled. With a client of your own, what bounds such a
// left command is the client's ReadTimeout and WriteTimeout (go-redis's
// defaults: 3 s), or with ContextTimeoutEnabled the context's deadline. That
// option, which Open sets, frees the pool sooner from a stalled server but
// costs a connection each time a deadline passes while a reply is awaited:
// go-redis closes it and the next call dials anew (see BENCHMARKS.md).
// Leaving a command costs a goroutine handoff when the context can end
// (about 3 µs a call measured on loopback; nothing for context.Background).
func New(client redis.UniversalClient, opts Options) (*Store, error) {
	if client == nil {
		return nil, errors.New("redis: nil client")
	}
	if opts.Prefix == "" {
		opts.Prefix = defaultPrefix
	}
	if opts.UserPrefix == "" {
		opts.UserPrefix = defaultUserPrefix
	}
	if opts.ScanCount <= 0 {
		opts.ScanCount = defaultScanCount
	}
	if strings.HasPrefix(opts.UserPrefix, opts.Prefix) || strings.HasPrefix(opts.Prefix, opts.UserPrefix) {
		return nil, fmt.Errorf("redis: user prefix %q and session prefix %q overlap: user sets would collide with sessions", opts.UserPrefix, opts.Prefix)
	}
	return &Store{
		client:     client,
		prefix:     opts.Prefix,
		userPrefix: opts.UserPrefix,
		match:      escapeGlob(opts.Prefix) + "*",
		scanCount:  opts.ScanCount,
		noUsers:    opts.NoUserIndex,
		log:        cmp.Or(opts.Logger, slog.Default()),
	}, nil
}

// Client returns the client the store uses.
func (s *Store) Client() redis.UniversalClient { return s.client }

// Prefix returns the prefix of the session keys.
func (s *Store) Prefix() string { return s.prefix }

// Load returns the value of the session's key and its expiry, read with GET
// and PEXPIRETIME pipelined in one round trip (a Lua script doing both is
// one command but slower; see BENCHMARKS.md). A missing key, which includes
// one Redis has expired, is found == false with a nil error, and so is a key
// of another type than a string (counted, see Foreign). A key without an
// expiry (written by another application with its TTL disabled) is returned
// with a zero expiresAt.
func (s *Store) Load(ctx context.Context, id string) ([]byte, time.Time, bool, error) {
	if err := s.check(ctx); err != nil {
		return nil, time.Time{}, false, err
	}
	key := s.prefix + id
	get := redis.NewStringCmd(ctx, "get", key)
	exp := redis.NewIntCmd(ctx, "pexpiretime", key)
	pipe := s.client.Pipeline()
	_ = pipe.Process(ctx, get)
	_ = pipe.Process(ctx, exp)
	err := s.do(ctx, func() error {
		_, _ = pipe.Exec(ctx) // a missing key's GET fails with redis.Nil; see record
		return nil
	})
	if err != nil {
		return nil, time.Time{}, false, s.wrap("load", err)
	}
	data, expiresAt, found, err := s.record(ctx, get, exp)
	if err != nil {
		return nil, time.Time{}, false, s.wrap("load", err)
	}
	return data, expiresAt, found, nil
}

// record reads the replies of a GET and a PEXPIRETIME of one key sent
// together. A missing key, one gone between the two commands and one that
// holds another type than a string (WRONGTYPE: not a session, though under
// the prefix) are found == false with a nil error; the last is counted and
// logged. A key without an expiry is found with a zero expiresAt.
func (s *Store) record(ctx context.Context, get *redis.StringCmd, exp *redis.IntCmd) (data []byte, expiresAt time.Time, found bool, err error) {
	data, err = get.Bytes()
	switch {
	case err == redis.Nil:
		return nil, time.Time{}, false, nil
	case wrongType(err):
		s.foreignKey(ctx)
		return nil, time.Time{}, false, nil
	case err != nil:
		return nil, time.Time{}, false, err
	}
	ms, err := exp.Result()
	if err != nil {
		return nil, time.Time{}, false, err
	}
	switch {
	case ms == -2: // expired or deleted between the two commands
		return nil, time.Time{}, false, nil
	case ms < 0:
		return data, time.Time{}, true, nil
	}
	return data, time.UnixMilli(ms), true, nil
}

// wrongType reports whether err is Redis's reply to a string command on a
// key of another type.
func wrongType(err error) bool {
	var reply redis.Error
	return errors.As(err, &reply) && strings.HasPrefix(reply.Error(), "WRONGTYPE")
}

// foreignKey counts a key of another type under the prefix and warns about
// it, at most once a minute, without naming it.
func (s *Store) foreignKey(ctx context.Context) {
	n := s.foreign.Add(1)
	now := time.Now().Unix()
	last := s.foreignLogs.Load()
	if now-last < 60 || !s.foreignLogs.CompareAndSwap(last, now) {
		return
	}
	s.log.LogAttrs(ctx, slog.LevelWarn, "redis: a key under the session prefix holds another type than a string; treated as no session (another application's data on a shared Redis?)",
		slog.String("prefix", s.prefix), slog.Int64("total", n))
}

// Foreign returns how many times since the store was made a key under the
// prefix was found to hold another type than a string: Load treated it as
// no session, Iterate skipped it. Compare it before and after an Iterate to
// learn how many keys that pass skipped.
func (s *Store) Foreign() int64 { return s.foreign.Load() }

// Save writes data under the session's key with expiresAt as its expiry, in
// one SET command. An expiresAt that is not in the future deletes the key,
// as connect-redis does, rather than writing a key with no lifetime left.
func (s *Store) Save(ctx context.Context, id string, data []byte, expiresAt time.Time) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	if id == "" {
		return errors.New("redis: save: empty session id")
	}
	key := s.prefix + id
	if !expiresAt.After(time.Now()) {
		if err := s.do(ctx, func() error { return s.client.Del(ctx, key).Err() }); err != nil {
			return s.wrap("save", err)
		}
		return nil
	}
	if data == nil {
		data = []byte{} // go-redis would send nil as "", but say so.
	}
	cmd := redis.NewStatusCmd(ctx, "set", key, data, "pxat", expiresAt.UnixMilli())
	if err := s.do(ctx, func() error { return s.client.Process(ctx, cmd) }); err != nil {
		return s.wrap("save", err)
	}
	return nil
}

// Touch sets the expiry of the session's key to expiresAt with PEXPIREAT,
// leaving the value alone. A missing key stays missing; an expiresAt in the
// past deletes the key.
func (s *Store) Touch(ctx context.Context, id string, expiresAt time.Time) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	cmd := redis.NewIntCmd(ctx, "pexpireat", s.prefix+id, expiresAt.UnixMilli())
	if err := s.do(ctx, func() error { return s.client.Process(ctx, cmd) }); err != nil {
		return s.wrap("touch", err)
	}
	return nil
}

// Delete removes the session's key. Deleting a missing key is not an error.
func (s *Store) Delete(ctx context.Context, id string) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	if err := s.do(ctx, func() error { return s.client.Del(ctx, s.prefix+id).Err() }); err != nil {
		return s.wrap("delete", err)
	}
	return nil
}

// Ping checks that Redis answers. On a Cluster it pings every master, so it
// fails while a master is down and its slots have no owner yet.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	err := s.do(ctx, func() error {
		switch c := s.client.(type) {
		case *redis.ClusterClient:
			return c.ForEachMaster(ctx, func(ctx context.Context, n *redis.Client) error {
				return n.Ping(ctx).Err()
			})
		case *redis.Ring:
			return c.ForEachShard(ctx, func(ctx context.Context, n *redis.Client) error {
				return n.Ping(ctx).Err()
			})
		}
		return s.client.Ping(ctx).Err()
	})
	if err != nil {
		return s.wrap("ping", err)
	}
	return nil
}

// Close marks the store closed, after which every method returns an error
// wrapping session.ErrClosed. It closes the client only when the store made
// it (Open), and then waits for the commands of calls cut short by their
// context (see New), which closing the client ends; a client passed to New
// stays open, and such commands end with its timeouts or its Close. Closing
// twice is not an error.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	if s.owned {
		err := s.client.Close()
		// Closing the client ended the replies they waited for.
		s.inflight.Wait()
		if err != nil {
			return fmt.Errorf("redis: close: %w", err)
		}
	}
	return nil
}

// check refuses work on a closed store or a finished context, before any
// command is queued.
func (s *Store) check(ctx context.Context) error {
	if s.closed.Load() {
		return session.ErrClosed
	}
	return ctx.Err()
}

// wrap names the operation and maps a closed client to session.ErrClosed.
// It never includes the key, which holds the session ID.
//
// On a Cluster it also asks go-redis to reload the slot map after an error
// that may mean the topology changed. go-redis reloads by itself only on
// MOVED/ASK or every ClusterStateReloadInterval (60s by default); a master
// that died refuses connections instead of redirecting, so without this its
// slots would stay unreachable for up to a minute after its replica took
// over. The reload is asynchronous and go-redis coalesces concurrent
// requests for it.
func (s *Store) wrap(op string, err error) error {
	if errors.Is(err, redis.ErrClosed) {
		return fmt.Errorf("redis: %s: %w", op, session.ErrClosed)
	}
	if cc, ok := s.client.(*redis.ClusterClient); ok && topologyError(err) {
		cc.ReloadState(context.Background())
	}
	if unavailable(err) {
		return fmt.Errorf("redis: %s: %w: %w", op, session.ErrUnavailable, err)
	}
	return fmt.Errorf("redis: %s: %w", op, err)
}

// unavailable reports whether err means Redis cannot serve now but may soon:
// the connection failed or broke (any error but a reply or the caller's
// context), or Redis answered that it is loading its data, has no master,
// has a slot without an owner, is a replica (READONLY, after a failover),
// lacks the replicas min-replicas-to-write asks for, or is busy with a
// script.
func unavailable(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var reply redis.Error
	if !errors.As(err, &reply) {
		return true
	}
	msg := reply.Error()
	for _, p := range []string{"LOADING", "MASTERDOWN", "CLUSTERDOWN", "TRYAGAIN", "READONLY", "NOREPLICAS", "BUSY"} {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return false
}

// topologyError reports whether err may come from a node that is down or a
// slot without an owner: any failure but a command's own error reply and a
// caller's cancellation.
func topologyError(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var reply redis.Error
	if errors.As(err, &reply) {
		msg := reply.Error()
		return strings.HasPrefix(msg, "CLUSTERDOWN") || strings.HasPrefix(msg, "TRYAGAIN")
	}
	return true
}

// escapeGlob escapes the characters SCAN MATCH treats as a pattern, so a
// prefix such as "app[1]:" matches only itself.
func escapeGlob(s string) string {
	if !strings.ContainsAny(s, `*?[]\`) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '*', '?', '[', ']', '\\':
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
