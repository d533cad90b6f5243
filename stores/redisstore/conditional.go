package redisstore

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sessionkit/sessionkit/session"
)

// The session.ConditionalStore capability, on connect-redis's keys as they
// are: no version key, no hash tag, no change to values or TTLs.
//
// The version is the value as loaded, so LoadVersion costs exactly what
// Load costs: nothing is computed on the read path. Replace sends the
// version's SHA-1, not the value, to one Lua script on the session's one
// key, so it is atomic and safe on a Cluster (a script touching one key runs
// on that key's node): the script reads the value, writes only if the
// value's SHA-1 is still the version's, and tells a changed value from a
// missing key. (A SHA-1 collision between two states of one session would
// be needed to overwrite a change unseen.) Any rewrite of the value, ours or a Node app's
// (connect-redis's set), makes the version stale; a write of identical bytes
// does not, and needs not, since merging over it gives the same result.
// Touch (PEXPIREAT, or connect-redis's EXPIRE) does not change the value, so
// it leaves the version alone: a request that loaded before a touch saves
// without a retry.
//
// Comparing against a version kept in a second key was rejected: Node would
// never update it, and on a Cluster it would need a hash tag, changing the
// key names Node uses. WATCH/MULTI needs a connection pinned across three
// round trips; the script needs one.

// replaceScript: KEYS[1] the session key; ARGV[1] the version's SHA-1 (hex),
// ARGV[2] the new value, ARGV[3] the expiry in Unix milliseconds. Returns 1
// when written, 0 when the key is missing, 2 when its value changed.
var replaceScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if not v then return 0 end
if redis.sha1hex(v) ~= ARGV[1] then return 2 end
redis.call('SET', KEYS[1], ARGV[2], 'PXAT', ARGV[3])
return 1
`)

var _ session.ConditionalStore = (*Store)(nil)

// LoadVersion is Load that also returns the version: the value itself (the
// same slice; the caller must change neither).
func (s *Store) LoadVersion(ctx context.Context, id string) ([]byte, time.Time, []byte, bool, error) {
	data, exp, found, err := s.Load(ctx, id)
	if err != nil || !found {
		return nil, time.Time{}, nil, false, err
	}
	return data, exp, data, true, nil
}

// sha1Hex is the hex SHA-1 of data, as the script's redis.sha1hex writes it.
func sha1Hex(data []byte) []byte {
	sum := sha1.Sum(data)
	return hex.AppendEncode(make([]byte, 0, 2*len(sum)), sum[:])
}

// Insert writes the key with SET … PXAT … NX: only when it does not exist.
// A key Redis has expired does not exist.
func (s *Store) Insert(ctx context.Context, id string, data []byte, expiresAt time.Time) (bool, error) {
	if err := s.check(ctx); err != nil {
		return false, err
	}
	if id == "" {
		return false, errors.New("redis: insert: empty session id")
	}
	if !expiresAt.After(time.Now()) {
		return false, errors.New("redis: insert: expiry is not in the future")
	}
	if data == nil {
		data = []byte{}
	}
	cmd := redis.NewStatusCmd(ctx, "set", s.prefix+id, data, "pxat", expiresAt.UnixMilli(), "nx")
	switch err := s.do(ctx, func() error { return s.client.Process(ctx, cmd) }); {
	case err == redis.Nil:
		return false, nil
	case err != nil:
		return false, s.wrap("insert", err)
	}
	return true, nil
}

// Replace runs the compare-and-set script on the session's key, sending the
// SHA-1 of version.
func (s *Store) Replace(ctx context.Context, id string, data []byte, expiresAt time.Time, ver []byte) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	if !expiresAt.After(time.Now()) {
		return errors.New("redis: replace: expiry is not in the future")
	}
	if data == nil {
		data = []byte{}
	}
	var n int
	err := s.do(ctx, func() (err error) {
		n, err = replaceScript.Run(ctx, s.client, []string{s.prefix + id}, sha1Hex(ver), data, expiresAt.UnixMilli()).Int()
		return err
	})
	switch {
	case wrongType(err):
		// Another program's key of another type: no session lives here.
		s.foreignKey(ctx)
		return fmt.Errorf("redis: replace: %w", session.ErrNotFound)
	case err != nil:
		return s.wrap("replace", err)
	}
	switch n {
	case 1:
		return nil
	case 0:
		return fmt.Errorf("redis: replace: %w", session.ErrNotFound)
	}
	return fmt.Errorf("redis: replace: %w", session.ErrConflict)
}
