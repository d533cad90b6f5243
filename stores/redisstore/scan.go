package redisstore

import (
	"context"
	"sync"

	"github.com/redis/go-redis/v9"

	"github.com/sessionkit/sessionkit/session"
)

// Count returns the number of session keys, by SCAN MATCH Prefix* TYPE string
// over the whole keyspace of every master (Cluster) or shard (Ring): keys of
// another type under the prefix are not sessions and are not counted. Its cost is
// O(all keys in the database), not O(sessions), in round trips of ScanCount
// keys: use it for operators and metrics scraped now and then, never on a
// request path. Keys Redis has logically expired are not counted. Like SCAN
// itself, a count taken while keys are written or the keyspace is resized is
// approximate: a key may be seen twice or missed.
func (s *Store) Count(ctx context.Context) (int64, error) {
	if err := s.check(ctx); err != nil {
		return 0, err
	}
	nodes, err := s.nodes(ctx)
	if err != nil {
		return 0, s.wrap("count", err)
	}
	var n int64
	for _, c := range nodes {
		var cursor uint64
		for {
			if err := ctx.Err(); err != nil {
				return 0, err
			}
			var (
				keys []string
				next uint64
			)
			err := s.do(ctx, func() (err error) {
				keys, next, err = c.ScanType(ctx, cursor, s.match, s.scanCount, "string").Result()
				return err
			})
			if err != nil {
				return 0, s.wrap("count", err)
			}
			n += int64(len(keys))
			if cursor = next; cursor == 0 {
				break
			}
		}
	}
	return n, nil
}

// Iterate calls fn for every live session, reading each SCAN batch's values
// and expiry instants in one pipelined round trip (GET and PEXPIRETIME per
// key).
// Masters of a Cluster are visited one after another, so fn is never called
// concurrently. A key that expires or is deleted between SCAN and GET is
// skipped, and so is a key of another type than a string (counted, see
// Foreign). A key without an expiry (written by another application with TTL
// disabled) is yielded with a zero ExpiresAt. As with SCAN, a key present for
// the whole iteration is yielded at least once, and may rarely be yielded
// twice if the keyspace is resized meanwhile. The cost is that of Count plus
// the values read.
func (s *Store) Iterate(ctx context.Context, fn func(session.Record) error) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	nodes, err := s.nodes(ctx)
	if err != nil {
		return s.wrap("iterate", err)
	}
	for _, c := range nodes {
		if err := s.iterateNode(ctx, c, fn); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) iterateNode(ctx context.Context, c redis.Cmdable, fn func(session.Record) error) error {
	var (
		cursor uint64
		gets   []*redis.StringCmd
		exps   []*redis.IntCmd
	)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		var (
			keys []string
			next uint64
		)
		err := s.do(ctx, func() (err error) {
			keys, next, err = c.Scan(ctx, cursor, s.match, s.scanCount).Result()
			return err
		})
		if err != nil {
			return s.wrap("iterate", err)
		}
		if len(keys) > 0 {
			gets, exps = gets[:0], exps[:0]
			pipe := c.Pipeline()
			for _, k := range keys {
				gets = append(gets, pipe.Get(ctx, k))
				e := redis.NewIntCmd(ctx, "pexpiretime", k)
				_ = pipe.Process(ctx, e)
				exps = append(exps, e)
			}
			// Exec reports a vanished key's GET as redis.Nil; each command is
			// checked below instead.
			err := s.do(ctx, func() error { _, _ = pipe.Exec(ctx); return nil })
			if err != nil {
				return s.wrap("iterate", err)
			}
			for i, k := range keys {
				data, exp, found, err := s.record(ctx, gets[i], exps[i])
				if err != nil {
					return s.wrap("iterate", err)
				}
				if !found {
					continue
				}
				if err := fn(session.Record{ID: k[len(s.prefix):], Data: data, ExpiresAt: exp}); err != nil {
					return err
				}
			}
		}
		if cursor = next; cursor == 0 {
			return nil
		}
	}
}

// nodes returns the clients whose keyspaces together hold every key: the
// masters of a Cluster, the shards of a Ring, or the client itself.
func (s *Store) nodes(ctx context.Context) ([]redis.Cmdable, error) {
	var (
		mu    sync.Mutex
		nodes []redis.Cmdable
	)
	collect := func(_ context.Context, c *redis.Client) error {
		mu.Lock()
		nodes = append(nodes, c)
		mu.Unlock()
		return nil
	}
	switch c := s.client.(type) {
	case *redis.ClusterClient:
		if err := c.ForEachMaster(ctx, collect); err != nil {
			return nil, err
		}
	case *redis.Ring:
		if err := c.ForEachShard(ctx, collect); err != nil {
			return nil, err
		}
	default:
		nodes = append(nodes, s.client)
	}
	return nodes, nil
}
