package boltstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"go.etcd.io/bbolt"
)

// The user index maps user \x00 id to the link's expiry, beside an expiry
// index (exp | user \x00 id → id) that prune walks. A user name containing
// \x00 may make UserSessions return extra IDs of another user, which the
// UserIndex contract allows; it never hides one.

func errMissing(name []byte) error { return fmt.Errorf("bucket %q is missing", name) }

func linkKey(user, id string) ([]byte, error) {
	if err := checkID(id); err != nil {
		return nil, err
	}
	if len(user)+1+len(id) > maxKey {
		return nil, errors.New("bbolt: user and session id too long")
	}
	return append(append(append(make([]byte, 0, len(user)+1+len(id)), user...), 0), id...), nil
}

// LinkUser records that session id belongs to user until expiresAt. Prune
// keeps the link past expiresAt while the session itself is live, so Touch
// need not repeat it.
func (s *Store) LinkUser(ctx context.Context, user, id string, expiresAt time.Time) error {
	link, err := linkKey(user, id)
	if err != nil {
		return err
	}
	buf := make([]byte, 8+len(link))
	binary.BigEndian.PutUint64(buf, nanos(expiresAt))
	copy(buf[8:], link)
	return s.submit(ctx, opLink, buf, len(id))
}

// UnlinkUser removes the link between user and session id; a missing link
// is not an error.
func (s *Store) UnlinkUser(ctx context.Context, user, id string) error {
	link, err := linkKey(user, id)
	if err != nil {
		return err
	}
	return s.submit(ctx, opUnlink, link, len(id))
}

// UserSessions returns the IDs of the live sessions linked to user.
func (s *Store) UserSessions(ctx context.Context, user string) ([]string, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	prefix := append([]byte(user), 0)
	var ids []string
	err := s.view("user sessions", func(tx *bbolt.Tx) error {
		users, data := tx.Bucket(s.users), tx.Bucket(s.data)
		if users == nil || data == nil {
			return errMissing(s.users)
		}
		now := uint64(time.Now().UnixNano())
		c := users.Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			id := k[len(prefix):]
			if v := data.Get(id); len(v) < 8 || binary.BigEndian.Uint64(v) <= now {
				continue
			}
			ids = append(ids, string(id))
		}
		return nil
	})
	if err != nil {
		return nil, s.fail("user sessions", err)
	}
	return ids, nil
}
