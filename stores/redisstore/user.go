package redisstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sessionkit/sessionkit/session"
)

// LinkUser adds id to the set UserPrefix + user and pushes the set's expiry
// out to expiresAt when that is later than its current one, in one MULTI
// (SADD, PEXPIREAT NX, PEXPIREAT GT: Redis 7.0 or later). The set therefore
// lives as long as the latest-expiring session linked to it and no longer.
// A session extended later by Touch alone does not extend the set, so the
// Manager links again whenever it extends a session that carries a user.
// An expiresAt that is not in the future links nothing.
func (s *Store) LinkUser(ctx context.Context, user, id string, expiresAt time.Time) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	if user == "" || id == "" {
		return errors.New("redis: link user: empty user or session id")
	}
	if s.noUsers || !expiresAt.After(time.Now()) {
		return nil
	}
	key := s.userPrefix + user
	at := expiresAt.UnixMilli()
	err := s.do(ctx, func() error {
		_, err := s.client.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.SAdd(ctx, key, id)
			// A set SADD just made has no expiry, which GT treats as
			// infinite: NX gives it one, then GT only ever moves it later.
			_ = p.Process(ctx, redis.NewIntCmd(ctx, "pexpireat", key, at, "nx"))
			_ = p.Process(ctx, redis.NewIntCmd(ctx, "pexpireat", key, at, "gt"))
			return nil
		})
		return err
	})
	if err != nil {
		return s.wrap("link user", err)
	}
	return nil
}

// UnlinkUser removes id from the user's set. Unlinking what is not linked is
// not an error.
func (s *Store) UnlinkUser(ctx context.Context, user, id string) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	if s.noUsers {
		return nil
	}
	if err := s.do(ctx, func() error { return s.client.SRem(ctx, s.userPrefix+user, id).Err() }); err != nil {
		return s.wrap("unlink user", err)
	}
	return nil
}

// UserSessions returns the IDs in the user's set whose session key still
// exists, and removes the others from the set (SREM), so a set shrinks as
// its sessions expire or are deleted. The existence checks are pipelined;
// on a Cluster, go-redis sends each to the master of its session's slot.
func (s *Store) UserSessions(ctx context.Context, user string) ([]string, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	if s.noUsers {
		return nil, fmt.Errorf("redis: the user index is off (NoUserIndex); find a user's sessions by reading every session (sessionctl revoke --scan): %w", session.ErrUnsupported)
	}
	var live []string
	if err := s.do(ctx, func() (err error) { live, err = s.userSessions(ctx, user); return err }); err != nil {
		return nil, err
	}
	return live, nil
}

func (s *Store) userSessions(ctx context.Context, user string) ([]string, error) {
	key := s.userPrefix + user
	ids, err := s.client.SMembers(ctx, key).Result()
	if err != nil {
		return nil, s.wrap("user sessions", err)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	exists := make([]*redis.IntCmd, len(ids))
	pipe := s.client.Pipeline()
	for i, id := range ids {
		exists[i] = pipe.Exists(ctx, s.prefix+id)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, s.wrap("user sessions", err)
	}
	live := ids[:0]
	var gone []any
	for i, id := range ids {
		if exists[i].Val() > 0 {
			live = append(live, id)
		} else {
			gone = append(gone, id)
		}
	}
	if len(gone) > 0 {
		if err := s.client.SRem(ctx, key, gone...).Err(); err != nil {
			return nil, s.wrap("user sessions", err)
		}
	}
	if len(live) == 0 {
		return nil, nil
	}
	return live, nil
}
